"""The README's merge rule for dialplan/*.sample, as the stock acceptance test applies it."""

from __future__ import annotations

from pathlib import Path

import pytest

from callrec_ari.errors import SandboxError
from callrec_ari.sandbox.session import DIALPLAN_DIR
from callrec_ari.sandbox.wiring import SAMPLES, merge, wire

HTTP = """; Debian's http.conf, shortened
[general]
servername=Asterisk
;enabled=yes
bindaddr=127.0.0.1
;bindport=8088

;[/ari]
;type = restriction
"""


def test_keys_go_inside_the_existing_section_never_a_second_copy():
    """[general] keeps one copy: a key set there is changed in place, others go under the
    header; the file's own comments and keys stay."""
    merged = merge(HTTP, "; comment\n[general]\nenabled = yes\nbindaddr = 127.0.100.1\n")
    assert merged.count("[general]") == 1
    lines = merged.splitlines()
    assert lines[lines.index("[general]") + 1] == "enabled = yes"
    assert "bindaddr = 127.0.100.1" in lines
    assert "bindaddr=127.0.0.1" not in lines
    assert "servername=Asterisk" in lines
    assert ";bindport=8088" in lines


def test_new_sections_and_the_include_go_at_the_end_the_include_last():
    """Contexts the file lacks are appended in the sample's order, #include at the top level
    after them, so nothing of [globals] lands in the included contexts."""
    stock = (
        "[general]\nstatic=yes\n\n[globals]\nTRUNK=DAHDI/G2\n\n[default]\nexten => s,1,Hangup()\n"
    )
    sample = (
        "; how to\n[globals]\nCALLREC_APP = callrec ; the app\n\n"
        "[callrec-route]\nexten => _X.,1,Dial(PJSIP/reception,60)\n\n"
        "#include extensions_callrec.conf       ; callrec's contexts\n"
    )
    merged = merge(stock, sample).splitlines()
    globals_at = merged.index("[globals]")
    assert merged[globals_at + 1] == "CALLREC_APP = callrec ; the app"
    assert merged.index("[callrec-route]") > merged.index("[default]")
    assert merged[-1] == "#include extensions_callrec.conf       ; callrec's contexts"
    assert merged.count("[globals]") == 1


def test_repeated_and_template_sections_are_appended_as_they_are():
    """pjsip's [trunk] three times (endpoint, aor, identify) all go in; a template header is
    never mistaken for a section to merge into."""
    stock = "; all comments\n[endpoint-defaults](!)\ntype = endpoint\n"
    sample = "[trunk]\ntype = endpoint\n\n[trunk]\ntype = aor\n\n[endpoint-defaults](!)\nx = 1\n"
    merged = merge(stock, sample)
    assert merged.count("[trunk]") == 2
    assert merged.count("[endpoint-defaults](!)") == 2


def test_wire_applies_every_sample_and_copies_the_contexts(tmp_path: Path):
    """Into an empty folder the samples arrive whole, extensions_callrec.conf beside them."""
    wire(tmp_path, DIALPLAN_DIR, {})
    assert (tmp_path / "extensions_callrec.conf").read_bytes() == (
        DIALPLAN_DIR / "extensions_callrec.conf"
    ).read_bytes()
    for target in SAMPLES.values():
        assert (tmp_path / target).read_text(encoding="utf-8").strip()
    extensions = (tmp_path / "extensions.conf").read_text(encoding="utf-8")
    assert extensions.rstrip().endswith(
        "; callrec-inbound, -consent, -register, -record, -unrecorded"
    )


def test_a_replacement_the_sample_no_longer_has_fails_loudly(tmp_path: Path):
    """A sample changed under the test is named, and nothing is wired by halves."""
    changes = {"pjsip.conf.sample": {"match = 10.0.0.1": "match = 10.0.0.2"}}
    with pytest.raises(SandboxError, match=r"pjsip\.conf\.sample no longer contains 'match = 10"):
        wire(tmp_path, DIALPLAN_DIR, changes)
    assert list(tmp_path.iterdir()) == []


def test_the_withdrawal_items_go_inside_debians_applicationmap(tmp_path: Path):
    """Debian's features.conf already has [applicationmap]: the items land in it, once, and the
    withdrawal tone's class is appended to musiconhold.conf."""
    (tmp_path / "features.conf").write_text(
        "[general]\n\n[featuremap]\n;automon => *1\n\n[applicationmap]\n; comments only\n\n"
        "; Dynamic Feature Groups\n"
    )
    (tmp_path / "musiconhold.conf").write_text(
        "[general]\n\n[default]\nmode=files\ndirectory=moh\n"
    )
    wire(tmp_path, DIALPLAN_DIR, {})
    features = (tmp_path / "features.conf").read_text(encoding="utf-8")
    assert features.count("[applicationmap]") == 1
    section = features.split("[applicationmap]", 1)[1]
    assert "callrec-withdraw-9 => 9,self,Gosub(callrec-withdraw,s,1),callrec-withdrawn" in section
    assert section.count("callrec-withdraw-") == 12
    moh = (tmp_path / "musiconhold.conf").read_text(encoding="utf-8")
    assert moh.count("[callrec-withdrawn]") == 1
    assert "[default]" in moh
