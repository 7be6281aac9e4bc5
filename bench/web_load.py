"""The staff web app under two floods from the pen test, measured on the real process.

Runs ``callrec web`` (the production entry point, production argon2 cost from the example
config, a real SQLite database) on loopback in a scratch folder, then:

(a) 40 concurrent anonymous 19 MB POSTs to ``/login``: the web process's resident memory
    before, and its peak (``VmHWM``) after;
(b) 200 concurrent wrong sign-ins from 127.0.0.1 (with a valid CSRF token, so each would
    reach the password check), and meanwhile one real user on 127.0.0.2 signing in: that
    user's latency (and the same sign-in's latency with no flood, measured just before, as
    a yardstick on a busy machine), and what the flood got back.

    .venv/bin/python -m bench.web_load                 # this checkout
    .venv/bin/python -m bench.web_load --source DIR    # another tree, e.g. `git archive main`

``--source`` puts that tree first on the web process's ``PYTHONPATH``, so the code before a
change can be measured with the same script and virtualenv.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
FLOOD_BODY_BYTES = 19 * 1024 * 1024
BIG_POSTS = 40
BAD_SIGN_INS = 200
USER = "realuser"
PASSWORD = "a real user's long password"  # noqa: S105 - the scratch bench account's
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')

_CREATE_USER = """
import asyncio, sys
from datetime import UTC, datetime
from callrec_ari.access import Role
from callrec_ari.config import load
from callrec_ari.db.session import open_sessions
from callrec_ari.staff import accounts
from callrec_ari.staff.passwords import Passwords

async def main():
    settings = load(__import__("pathlib").Path(sys.argv[1]), {})
    async with open_sessions(settings.database.url) as sessions:
        async with sessions() as db, db.begin():
            await accounts.create_user(
                db, by="cli:bench", username=sys.argv[2], display_name="Real User",
                password=sys.argv[3], passwords=Passwords(settings.passwords),
                roles=[Role.AGENT], totp_exempt=True, now=datetime.now(UTC),
            )

asyncio.run(main())
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(folder: Path, port: int) -> Path:
    """The example config with its database, recordings and web port in ``folder``."""
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    text = text.replace(
        'url = "sqlite+aiosqlite:///var/callrec.db"',
        f'url = "sqlite+aiosqlite:///{folder}/callrec.db"',
    )
    text = re.sub(r'service_dir = "/var/spool/asterisk/callrec"', 'service_dir = "rec"', text)
    text = text.replace("port = 8443", f"port = {port}")
    (folder / "rec").mkdir()
    config = folder / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = int(value.split()[0])
    return fields


async def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit(f"the web app exited with status {process.returncode}")
            try:
                async with session.get(url + "/login") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the web app did not answer within 30 s")


async def _big_post(session: aiohttp.ClientSession, url: str, body: bytes) -> str:
    try:
        async with session.post(
            url + "/login",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response:
            return str(response.status)
    except aiohttp.ClientError as exc:
        # A server that refuses from the length may close before the body is all sent.
        return type(exc).__name__


async def flood_big_posts(url: str, pid: int) -> dict[str, Any]:
    """(a): 40 concurrent anonymous 19 MB posts; the web process's memory."""
    before = _memory_kib(pid)
    body = b"a=" + b"x" * (FLOOD_BODY_BYTES - 2)
    started = time.monotonic()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        answers = await asyncio.gather(*(_big_post(session, url, body) for _ in range(BIG_POSTS)))
    after = _memory_kib(pid)
    return {
        "rss_before_mib": round(before["VmRSS"] / 1024, 1),
        "peak_rss_mib": round(after["VmHWM"] / 1024, 1),
        "seconds": round(time.monotonic() - started, 2),
        "answers": dict(Counter(answers)),
    }


async def _token(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url + "/login") as response:
        found = _CSRF.search(await response.text())
    if found is None:
        raise SystemExit("the sign-in page has no CSRF token")
    return found.group(1)


async def _bad_sign_in(session: aiohttp.ClientSession, url: str, token: str, n: int) -> str:
    try:
        async with session.post(
            url + "/login",
            data={"csrf": token, "username": f"user{n % 20}", "password": f"guess {n}"},
            allow_redirects=False,
        ) as response:
            return str(response.status)
    except aiohttp.ClientError as exc:
        return type(exc).__name__


async def _real_sign_in(url: str) -> tuple[float, int]:
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        started = time.monotonic()
        token = await _token(session, url)
        async with session.post(
            url + "/login",
            data={"csrf": token, "username": USER, "password": PASSWORD, "next": "/calls"},
            allow_redirects=False,
        ) as response:
            status = response.status
        return time.monotonic() - started, status


async def _flood(url: str) -> None:
    """The flood alone, in its own process: the real user's client must not share an
    event loop (or a GIL) with 200 requests, or the bench would measure itself."""
    jar = aiohttp.CookieJar(unsafe=True)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
        token = await _token(session, url)
        started = time.monotonic()
        pending = asyncio.gather(
            *(_bad_sign_in(session, url, token, n) for n in range(BAD_SIGN_INS))
        )
        print("flooding", flush=True)
        answers = await pending
    print(json.dumps({"seconds": time.monotonic() - started, "answers": Counter(answers)}))


async def flood_sign_ins(url: str) -> dict[str, Any]:
    """(b): 200 concurrent wrong sign-ins, and meanwhile a real user's sign-in."""
    alone, _ = await _real_sign_in(url)  # the same sign-in with nothing else going on
    flood = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.web_load", "--flood", url, stdout=asyncio.subprocess.PIPE
    )
    assert flood.stdout is not None
    await flood.stdout.readline()  # "flooding"
    await asyncio.sleep(0.2)  # the requests are in: now the real user
    latency, status = await _real_sign_in(url)
    report = json.loads(await flood.stdout.read())
    await flood.wait()
    return {
        "real_user_alone_seconds": round(alone, 2),
        "real_user_seconds": round(latency, 2),
        "real_user_status": status,
        "flood_seconds": round(report["seconds"], 2),
        "flood_answers": report["answers"],
    }


def main() -> None:
    """Set up, run both floods against a fresh web process each, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="the source tree to run the web app from")
    parser.add_argument("--web-log", type=Path, help="append the web process's output here")
    parser.add_argument("--flood", metavar="URL", help=argparse.SUPPRESS)  # (b)'s child
    args = parser.parse_args()
    if args.flood:
        asyncio.run(_flood(args.flood))
        return
    env = dict(os.environ)
    if args.source is not None:
        env["PYTHONPATH"] = str(args.source.resolve())
    results: dict[str, Any] = {"source": str(args.source or REPO)}
    with tempfile.TemporaryDirectory(prefix="callrec-web-load-") as scratch:
        folder = Path(scratch)
        port = _free_port()
        config = _config(folder, port)
        python = sys.executable
        subprocess.run(
            [python, "-m", "callrec_ari", "migrate", "-c", str(config)],
            env=env,
            cwd=folder,  # not this checkout: `-m` puts the working folder first on the path
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [python, "-c", _CREATE_USER, str(config), USER, PASSWORD],
            env=env,
            cwd=folder,
            check=True,
        )
        url = f"http://127.0.0.1:{port}"
        for name, flood in (("big_posts", "a"), ("sign_in_flood", "b")):
            log_file = args.web_log.open("ab") if args.web_log else None
            process = subprocess.Popen(
                [python, "-m", "callrec_ari", "web", "-c", str(config)],
                env=env,
                cwd=folder,
                stdout=log_file if log_file is not None else subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            try:
                asyncio.run(_wait_until_up(url, process))
                if flood == "a":
                    results[name] = asyncio.run(flood_big_posts(url, process.pid))
                else:
                    results[name] = asyncio.run(flood_sign_ins(url))
            finally:
                process.terminate()
                process.wait(timeout=30)
                if log_file is not None:
                    log_file.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
