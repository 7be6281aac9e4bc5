"""The README's "See it work in a minute" block, run as written: each demo leaves the row
its comment describes (see readme_support for where and how the commands run)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.conftest import CACHE
from tests.acceptance.readme_support import (
    BLOCKS,
    Example,
    Folder,
    printed_row,
    readme_examples,
    readme_folder,
)

pytestmark = pytest.mark.asterisk


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    """A folder with a copy of the example config, on a reserved sandbox slot."""
    yield from readme_folder(tmp_path, CACHE)


def test_the_demo_examples_do_what_their_comments_say(folder: Folder):
    """Each ``demo`` of the first block, in order, against the real sandbox."""
    demos = readme_examples(BLOCKS[0])
    assert [example.command for example in demos] == [
        ".venv/bin/callrec demo",
        ".venv/bin/callrec demo 5552000",
        ".venv/bin/callrec demo --press 9",
    ]
    for example in demos:
        check_demo(folder, example)


def check_demo(folder: Folder, example: Example) -> None:
    """Each demo call leaves the row its comment describes."""
    row = printed_row(folder.run(example.command))
    if "--press 9" in example.command:
        assert (row["consent"], row["recording_status"]) == ("declined", "none")
        assert row["agent"] == "agent100"  # "connected"
    else:
        assert (row["consent"], row["recording_status"]) == ("given", "complete")
    expected = ["fi", "sv"] if "5552000" in example.command else ["pl"]
    assert row["languages"] == expected
