"""``callrec notice``: the privacy notice from the live configuration, on standard output."""

from __future__ import annotations

import argparse
import sys

from callrec_ari.cli import CommandLine
from callrec_ari.db import schema
from callrec_ari.db.session import run_command
from callrec_ari.profile.notice import build_notice
from callrec_ari.profile.notice_text import NoticeFormat, render
from callrec_ari.profile.notice_words import LANGUAGES
from callrec_ari.routing import store as routing


def add_commands(cli: CommandLine) -> None:
    """Add ``notice`` to the ``callrec`` command line."""
    notice = cli.add(
        "notice",
        lambda args: _notice(cli, args),
        "Print the privacy notice (register description) built from the organisation profile, "
        "the routes and the retention policies in force, the admin's changes included.",
    )
    notice.add_argument("--lang", choices=LANGUAGES, help="the language (default: [web] language)")
    notice.add_argument(
        "--format",
        choices=[form.value for form in NoticeFormat],
        default=NoticeFormat.TXT.value,
        help="html for a web page, txt for plain text (default)",
    )


def _notice(cli: CommandLine, args: argparse.Namespace) -> int:
    settings = cli.load_settings(args)
    schema.require(settings.database.url)  # "run callrec migrate first", not an SQL error
    # Read only: the admin's changes count as much as the config file's.
    current = run_command(
        settings.database.url,
        lambda session: routing.effective(session, settings),
        client=cli.operator.client,
    )
    language = args.lang or current.web.language
    text = render(build_notice(current), language, NoticeFormat(args.format))
    sys.stdout.write(text)
    return 0
