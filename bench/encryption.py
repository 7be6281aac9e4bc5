"""Encryption throughput on this machine: sealing and decrypting recordings against a plain copy.

Writes ``--files`` WAVs of ``--minutes`` of 8 kHz 16-bit mono audio (960 KB a minute) in a
temporary folder (or ``--dir``), then times, each ``--runs`` times, the best of:

- a plain copy of every file (``shutil.copyfile``, what storing without encryption costs),
- ``crypto.format.encrypt_file`` of every file (read, AES-256-GCM in 64 KiB chunks, fsync),
- reading every sealed file back in full (decrypt), and a 64 KiB range from its middle.

The copy is flushed to disk too (fsync), so both sides pay the same write::

    .venv/bin/python -m bench.encryption [--files 20] [--minutes 5] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

from callrec_ari.crypto.format import encrypt_file, open_encrypted
from callrec_ari.crypto.keys import new_data_key

_RATE = 8000


def _write(path: Path, minutes: float) -> None:
    frames = os.urandom(2 * int(_RATE * 60 * minutes))  # noise: nothing to compress or skip
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(_RATE)
        wav.writeframes(frames)


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with target.open("rb+") as handle:
        os.fsync(handle.fileno())


def _best(runs: int, job: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Run the benchmark and print MB/s for each way."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="callrec-bench-", dir=args.dir))
    try:
        plain = [folder / f"{n}.wav" for n in range(args.files)]
        for path in plain:
            _write(path, args.minutes)
        total = sum(path.stat().st_size for path in plain)
        key = new_data_key()

        def copy_all() -> None:
            for path in plain:
                _copy(path, path.with_suffix(".copy"))

        def seal_all() -> None:
            for path in plain:
                encrypt_file(path, path.with_suffix(".enc"), key)

        def open_all() -> None:
            for path in plain:
                with open_encrypted(path.with_suffix(".enc"), key) as handle:
                    while handle.read(1 << 20):
                        pass

        def seek_all() -> None:
            for path in plain:
                with open_encrypted(path.with_suffix(".enc"), key) as handle:
                    handle.seek(path.stat().st_size // 2)
                    handle.read(1 << 16)

        seconds = {
            "plain_copy": _best(args.runs, copy_all),
            "encrypt": _best(args.runs, seal_all),
            "decrypt": _best(args.runs, open_all),
        }
        seek = _best(args.runs, seek_all) / args.files
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = {
        "files": args.files,
        "megabytes": round(total / 1e6, 1),
        **{f"{name}_mb_s": round(total / 1e6 / spent, 1) for name, spent in seconds.items()},
        "encrypt_vs_copy": round(seconds["encrypt"] / seconds["plain_copy"], 2),
        "range_64k_ms": round(seek * 1000, 3),
        "seal_one_minute_ms": round(seconds["encrypt"] / (args.files * args.minutes) * 1000, 2),
    }
    if args.json:
        print(json.dumps(report))
    else:
        for name, value in report.items():
            print(f"{name:22} {value}")


if __name__ == "__main__":
    main()
