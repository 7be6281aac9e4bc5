"""``callrec purge``, ``orphans`` and ``hold``: what a person at the terminal sees and gets."""

from __future__ import annotations

import contextlib
import io
import os
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomli_w

from callrec_ari.__main__ import main
from callrec_ari.records import CallRecord, RecordingStatus
from tests.lifecycle.conftest import file_of, recorded, row, set_columns, store
from tests.support.audio import write_wav
from tests.support.database import on_database as database

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
# The command line's clock, injected: these calls are long expired under any policy...
CLI_NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
OLD = CLI_NOW - timedelta(days=400)
# ...and these are recent, kept for months.
RECENT = CLI_NOW - timedelta(days=1)


@pytest.fixture
def config(tmp_path: Path, database_url: str, recordings: Path) -> Path:
    """A config on the test database and recordings folder."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = database_url
    data["recording"]["service_dir"] = str(recordings)
    data["log"]["level"] = "warning"
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def run(config: Path, *argv: str) -> tuple[int, str, str]:
    """Run one command at ``CLI_NOW``; its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([*argv[:1], "-c", str(config), *argv[1:]], clock=lambda: CLI_NOW)
    return status, out.getvalue(), err.getvalue()


def errors_of(stderr: str) -> str:
    """callrec's own lines on stderr, without log lines or the progress bar."""
    return "\n".join(line for line in stderr.splitlines() if line.startswith("callrec:"))


def seed(database_url: str, *records: CallRecord) -> None:
    """Store the calls."""
    database(database_url, lambda sessions: store(sessions, *records))


def stored(database_url: str, uniqueid: str):
    """The row of one call."""
    return database(database_url, lambda sessions: row(sessions, uniqueid))


def test_purge_dry_run_lists_then_purge_deletes(config, database_url, recordings):
    """The dry run names what would go and keeps it; the purge then deletes it."""
    expired = recorded("1.1", recordings, start=OLD)
    young = recorded("1.2", recordings, start=RECENT, policy="months-6")
    seed(database_url, expired, young)

    status, out, err = run(config, "purge", "--dry-run", "--no-progress")
    assert (status, errors_of(err)) == (0, "")
    assert out.splitlines()[0].startswith("would purge 1.1  retention  delete_after=")
    assert out.splitlines()[-1] == (
        "would purge 1 call (1 by retention, 0 by erasure): 1 recording to delete, "
        "0 already missing"
    )
    assert file_of(recordings, expired).exists()

    status, out, err = run(config, "purge")
    assert status == 0
    assert out == (
        "purged 1 call (1 by retention, 0 by erasure): 1 recording deleted, 0 already missing\n"
    )
    assert "100%" in err  # the progress bar
    assert not file_of(recordings, expired).exists()
    assert file_of(recordings, young).exists()


def test_purge_names_each_row_it_left_alone(config, database_url, recordings):
    """A path outside the folder and an unknown policy: one line each, exit status 1."""
    seed(
        database_url,
        recorded("2.1", None, start=OLD),
        recorded("2.2", recordings, start=OLD, policy="years-10", delete_after=None),
        recorded("2.3", recordings, start=OLD),
    )
    database(
        database_url,
        lambda sessions: set_columns(sessions, "2.1", recording_path="../../etc/passwd"),
    )

    status, out, err = run(config, "purge", "--no-progress")

    assert status == 1
    assert out.startswith("purged 1 call ")
    assert errors_of(err).splitlines() == [
        "callrec: call '2.1' left untouched: its recording path '../../etc/passwd' is outside "
        "the recordings folder.",
        "callrec: 1 call left untouched: their retention policy 'years-10' is not in the "
        "configuration.",
    ]


def test_a_hold_from_the_command_line_keeps_calls_until_released(config, database_url, recordings):
    """Place, list, purge (kept), release (purged at once), list --all."""
    call = recorded("3.1", recordings, start=OLD)
    seed(database_url, call)

    status, out, _ = run(
        config,
        "hold",
        "place",
        "--case",
        "PR/7",
        "--reason",
        "police inquiry",
        "--call",
        "3.1",
        "--actor",
        "dpo",
    )
    assert (status, out) == (0, "hold 1 placed on 1 call (case PR/7)\n")
    status, out, _ = run(config, "hold", "list")
    assert out.startswith("hold 1  case PR/7  1 call  placed ")
    assert "by dpo  reason: police inquiry  [active]" in out
    assert run(config, "purge", "--no-progress")[1].startswith("purged 0 calls")
    assert file_of(recordings, call).exists()

    status, out, _ = run(config, "hold", "release", "1", "--reason", "closed")
    assert status == 0
    assert out.splitlines() == [
        "hold 1 released; other holds still keep 0 of its 1 call",
        "purged 1 call (1 by retention, 0 by erasure): 1 recording deleted, 0 already missing",
    ]
    assert not file_of(recordings, call).exists()
    assert run(config, "hold", "list")[1] == ""
    assert "[released " in run(config, "hold", "list", "--all")[1]
    assert "hold 1  case PR/7" in run(config, "hold", "list", "--call", "3.1")[1]


def test_a_hold_on_a_number_reads_dates_as_utc_days(config, database_url, recordings):
    """Bare dates cover whole days: --to includes its day; the period is stored in UTC."""
    day = OLD.date()
    seed(
        database_url,
        recorded("4.1", recordings, start=datetime.combine(day, datetime.max.time(), UTC)),
        recorded("4.2", recordings, start=datetime.combine(day, datetime.min.time(), UTC)),
    )
    status, out, err = run(
        config,
        "hold",
        "place",
        "--case",
        "C-9",
        "--reason",
        "complaint",
        "--number",
        "+48 22 123 45 67",
        "--from",
        day.isoformat(),
        "--to",
        day.isoformat(),
    )
    assert (status, errors_of(err)) == (0, "")
    assert out == "hold 1 placed on 2 calls (case C-9)\n"
    listed = run(config, "hold", "list")[1]
    assert f"from +48221234567 {day.isoformat()}T00:00:00+00:00.." in listed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--number", "+48221234567", "--from", "yesterday", "--to", "2026-01-01"],
         "callrec: --from 'yesterday' is not an ISO 8601 date or time"),
        (["--number", "+48221234567", "--from", "2026-01-01"],
         "callrec: --number needs a period: --from and --to."),
        (["--call", "5.1", "--from", "2026-01-01"],
         "callrec: --from and --to go with --number, not with --call."),
        (["--number", "not-a-number", "--from", "2026-01-01", "--to", "2026-01-02"],
         "callrec: Phone number 'not-a-number' is not a phone number"),
        (["--call", "5.9"], "callrec: No stored call has the uniqueid '5.9'."),
        (["--call", "5.1", "--until", "2001-01-01"],
         "callrec: The hold's end date 2001-01-02T00:00:00+00:00 is not in the future."),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("recordings")
def test_bad_hold_input_is_one_line_and_exit_status_2(config, database_url, argv, message):
    """Each mistake gives one sentence on stderr; nothing is stored."""
    seed(database_url, recorded("5.1", None, start=OLD))
    status, out, err = run(config, "hold", "place", "--case", "C", "--reason", "r", *argv)
    errors = errors_of(err)
    assert (status, out) == (2, "")
    assert errors.startswith(message)
    assert len(errors.splitlines()) == 1
    assert run(config, "hold", "list", "--all")[1] == ""


def test_releasing_twice_is_one_line_and_exit_status_2(config, database_url, recordings):
    """The second release says who released the hold and when."""
    seed(database_url, recorded("6.1", recordings, start=RECENT, policy="months-6"))
    run(config, "hold", "place", "--case", "C", "--reason", "r", "--call", "6.1")
    assert run(config, "hold", "release", "1", "--reason", "done", "--actor", "ann")[0] == 0
    status, _, err = run(config, "hold", "release", "1", "--reason", "again")
    errors = errors_of(err)
    assert status == 2
    assert errors.startswith("callrec: Hold 1 was already released on ")
    assert errors.endswith(" by ann.")


def test_the_config_option_may_follow_the_hold_action(config, database_url):
    """`callrec hold list -c FILE` works as well as `callrec hold -c FILE list`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["hold", "list", "-c", str(config)]) == 0
        assert main(["hold", "-c", str(config), "list", "--all"]) == 0
    assert out.getvalue() == ""


def test_orphans_are_reported_then_removed(config, database_url, recordings):
    """A stray WAV from a long-past day is listed, then removed with --remove."""
    seed(database_url, recorded("7.1", recordings, start=OLD))
    stray = recordings / OLD.strftime("%Y/%m/%d") / "7.2.wav"
    write_wav(stray, 0.01)
    os.utime(stray, (OLD.timestamp(), OLD.timestamp()))

    status, out, _ = run(config, "orphans")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"orphan {OLD:%Y/%m/%d}/7.2.wav  7.2.wav  ")
    assert lines[0].endswith("older than 186 days (--remove deletes it)")  # 6 months of 31 days
    assert lines[1].startswith("1 orphan among 2 recordings in 1 day folder; 1 older than")
    assert stray.exists()

    status, out, _ = run(config, "orphans", "--remove")
    assert out.splitlines()[0].endswith("removed")
    assert not stray.exists()
    assert file_of(recordings, recorded("7.1", None, start=OLD)).exists()


def test_a_kept_file_that_could_not_be_repaired_needs_a_decision(config, database_url, recordings):
    """A failed recording whose file a row still keeps is not an orphan: it is named as
    needing a decision, and --remove leaves it alone."""
    cut = recorded(
        "7.3",
        None,
        start=RECENT,
        recording_status=RecordingStatus.FAILED,
        interrupted_by="pbx",
    )
    seed(database_url, cut)
    wav = file_of(recordings, cut)
    wav.parent.mkdir(parents=True, exist_ok=True)
    wav.write_bytes(b"\x00" * 100)

    status, out, _ = run(config, "orphans", "--remove")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("0 orphans among 1 recording")
    assert lines[1].startswith(f"needs a decision {cut.recording_path}  call 7.3  Asterisk died")
    assert lines[2] == "1 recording kept that could not be read: they need a decision"
    assert wav.read_bytes() == b"\x00" * 100


@pytest.mark.parametrize("argv", [["purge"], ["orphans"], ["hold", "list"]])
def test_an_unmigrated_database_says_what_to_run(tmp_path, recordings, argv):
    """Before `callrec migrate` the commands say so instead of failing on a missing table."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["database"]["url"] = f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}"
    data["recording"]["service_dir"] = str(recordings)
    config = tmp_path / "new.toml"
    config.write_text(tomli_w.dumps(data), encoding="utf-8")
    status, out, err = run(config, *argv)
    assert (status, out) == (2, "")
    assert errors_of(err).endswith("run `callrec migrate` first.")


def test_purge_says_which_calls_it_kept_because_they_are_restricted(
    config, database_url, recordings
):
    """A restricted call past its date is kept and counted in one line, status 0 (GDPR Art.
    18 asks for it to be kept, so nothing is wrong)."""
    expired = recorded("9.1", recordings, start=OLD)
    seed(database_url, expired)
    database(database_url, lambda sessions: set_columns(sessions, "9.1", restricted_at=OLD))

    status, out, err = run(config, "purge", "--no-progress")

    assert (status, errors_of(err)) == (0, "")
    assert out.splitlines()[-1] == (
        "kept 1 call past their deletion date: their processing is restricted (GDPR Art. 18); "
        "lifting the restriction lets the purge take them"
    )
    assert file_of(recordings, expired).exists()
