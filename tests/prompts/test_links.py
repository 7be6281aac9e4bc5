"""Following sound-folder links as Asterisk would, inside its own root."""

from __future__ import annotations

import pytest

from callrec_ari.prompts.links import LinkLoopError, resolve


def test_without_links_a_path_is_itself(tmp_path):
    """A path with no link on the way comes back unchanged, existing or not."""
    assert resolve(tmp_path / "sounds" / "pl", tmp_path) == tmp_path / "sounds" / "pl"


def test_relative_links_are_followed_from_their_own_folder(tmp_path):
    """en -> en_US_f_Allison resolves beside the link, also with .. on the way."""
    sounds = tmp_path / "sounds"
    (sounds / "en_US_f_Allison").mkdir(parents=True)
    (sounds / "en").symlink_to("en_US_f_Allison")
    (sounds / "custom").symlink_to("../sounds/./en_US_f_Allison")
    assert resolve(sounds / "en" / "callrec", tmp_path) == sounds / "en_US_f_Allison" / "callrec"
    assert resolve(sounds / "custom", tmp_path) == sounds / "en_US_f_Allison"


def test_absolute_links_inside_the_root_are_read_inside_it(tmp_path):
    """Debian's chain en -> /etc/alternatives/... -> /usr/share/... stays in Asterisk's root."""
    root = tmp_path / "root"
    sounds = root / "usr/share/asterisk/sounds"
    (sounds / "en_US_f_Allison").mkdir(parents=True)
    (root / "etc/alternatives").mkdir(parents=True)
    (root / "etc/alternatives/asterisk-prompt-en").symlink_to(
        "/usr/share/asterisk/sounds/en_US_f_Allison"
    )
    (sounds / "en").symlink_to("/etc/alternatives/asterisk-prompt-en")
    assert resolve(sounds / "en", root) == sounds / "en_US_f_Allison"


def test_absolute_links_outside_the_root_keep_their_meaning(tmp_path):
    """A link beside, not inside, Asterisk's root points where the operating system says."""
    (tmp_path / "real").mkdir()
    (tmp_path / "elsewhere").symlink_to(tmp_path / "real")
    assert resolve(tmp_path / "elsewhere", tmp_path / "root") == tmp_path / "real"


def test_dotdot_never_climbs_out_of_the_root(tmp_path):
    """As in a chroot, the root's parent is the root itself."""
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "up").symlink_to("../../../../b")
    assert resolve(root / "a" / "up", root) == root / "b"


def test_a_loop_is_reported(tmp_path):
    """Two links pointing at each other raise instead of spinning."""
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(LinkLoopError):
        resolve(tmp_path / "a", tmp_path)
