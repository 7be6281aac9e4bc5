"""The shared shapes of language codes and sound names."""

from __future__ import annotations

import pytest

from callrec_ari.names import LANGUAGE, SOUND_NAME, UNIQUEID


@pytest.mark.parametrize("code", ["pl", "fil", "pt_BR"])
def test_language_codes_asterisk_uses_are_accepted(code: str):
    assert LANGUAGE.fullmatch(code)


@pytest.mark.parametrize("code", ["PL", "pl-PL", "polish", "../en", "", "pl_br"])
def test_anything_else_is_not_a_language(code: str):
    """A language becomes a folder name: nothing that could climb out of the sounds folder."""
    assert not LANGUAGE.fullmatch(code)


@pytest.mark.parametrize("name", ["announcement", "decline-hint", "not_recorded2"])
def test_sound_names_are_plain_file_stems(name: str):
    assert SOUND_NAME.fullmatch(name)


@pytest.mark.parametrize("name", ["../etc/passwd", "a.wav", "a b", "", "x" * 65])
def test_paths_extensions_and_spaces_are_not_sound_names(name: str):
    assert not SOUND_NAME.fullmatch(name)


@pytest.mark.parametrize("uniqueid", ["1795514341.6", "pbx-a-1795514341.6", "node_2-17.0"])
def test_uniqueids_with_or_without_the_nodes_systemname(uniqueid: str):
    """Asterisk's uniqueid, and the same with the node's systemname in front of it."""
    assert UNIQUEID.fullmatch(uniqueid)


@pytest.mark.parametrize("text", ["", "1795514341", "a b-1.2", "-1.2", "1.2;x", "../1.2"])
def test_anything_else_is_no_uniqueid(text: str):
    """No spaces, no path, no lone number: a uniqueid names a file and a row."""
    assert not UNIQUEID.fullmatch(text)
