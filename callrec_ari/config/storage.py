"""``[storage]``: where finished recordings are kept, a folder here or an S3 bucket.

::

    [storage]
    kind = "s3"                    # "local" (the default): a folder on this machine
    location = "PL"                # the bucket's country; default: [profile] storage_country
    bucket = "callrec-recordings"
    prefix = "node-1"              # optional: keys go under node-1/...
    region = "eu-central-1"
    endpoint_url = "https://s3.example.net"   # any S3-compatible store; omit for AWS
    access_key_id = "..."          # or CALLREC_S3_ACCESS_KEY_ID
    secret_access_key = "..."      # or CALLREC_S3_SECRET_ACCESS_KEY (better)

Credentials are read once, here, at start-up; without any, the S3 client's own chain
(its environment variables, an instance role) is used. A finished file waits in
``outbox_dir`` until the store has confirmed it, and is retried with a growing delay
between ``retry_min_seconds`` and ``retry_max_seconds``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from babel import Locale

from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError

ENV_S3_ACCESS_KEY_ID = "CALLREC_S3_ACCESS_KEY_ID"
ENV_S3_SECRET_ACCESS_KEY = "CALLREC_S3_SECRET_ACCESS_KEY"  # noqa: S105 - a variable's name.
OUTBOX_DIR = "var/outbox"
MIB = 1024 * 1024
MIN_PART_MIB = 5  # S3 refuses smaller parts (but the last) in a multipart upload

# S3's bucket naming rules (the strict, DNS-compatible set every S3-compatible store takes).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9-]{1,40}")
_COUNTRY = re.compile(r"[A-Z]{2}")


class StorageKind(enum.StrEnum):
    """Which store keeps finished recordings."""

    LOCAL = "local"  # a folder on this machine
    S3 = "s3"  # an S3-compatible bucket


class AddressingStyle(enum.StrEnum):
    """How the bucket appears in request URLs."""

    AUTO = "auto"  # the client's choice: virtual-hosted where the name allows it
    PATH = "path"  # https://endpoint/bucket/key: most self-hosted stores want this
    VIRTUAL = "virtual"  # https://bucket.endpoint/key


@dataclass(frozen=True, kw_only=True)
class S3Settings:
    """How to reach one bucket of an S3-compatible store."""

    bucket: str
    prefix: str = ""  # "" or ending in "/": prepended to every key
    region: str = "us-east-1"
    endpoint_url: str | None = None  # None: AWS itself
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    addressing_style: AddressingStyle = AddressingStyle.AUTO
    timeout_seconds: float = 10.0  # connecting, and each read from the socket
    part_size_bytes: int = 16 * MIB  # files larger than one part go in parts of this size

    @property
    def where(self) -> str:
        """The bucket and where it is, for messages (never the credentials)."""
        endpoint = self.endpoint_url or f"AWS region {self.region}"
        return f"bucket {self.bucket} at {endpoint}"


@dataclass(frozen=True, kw_only=True)
class StorageSettings:
    """Where finished recordings are kept, and how uploads are retried."""

    kind: StorageKind = StorageKind.LOCAL
    dir: Path | None = None  # local: None means the recordings folder itself
    location: str | None = None  # ISO 3166 code of the country; required for s3
    s3: S3Settings | None = None  # set exactly when kind is s3
    outbox_dir: Path = Path(OUTBOX_DIR)
    retry_min_seconds: float = 1.0
    retry_max_seconds: float = 300.0
    upload_workers: int = 2

    def location_name(self, language: str = "en") -> str | None:
        """The country's name in ``language`` (``Poland``), for the register description."""
        if self.location is None:
            return None
        return str(Locale.parse(language).territories.get(self.location, self.location))


def parse_storage(
    table: Table,
    env: Mapping[str, str],
    base_dir: Path,
    notice_countries: Collection[str] = (),
) -> StorageSettings:
    """``[storage]``: the kind of store, its place and credentials, the upload queue.
    ``notice_countries``: the ``storage_country`` the profile and routes give in the privacy
    notice; ``location`` defaults to it and may not differ from it."""
    kind: StorageKind = table.choice("kind", StorageKind, "local")
    minimum = table.positive("retry_min_seconds", 1.0)
    maximum = table.positive("retry_max_seconds", 300.0)
    if maximum < minimum:
        raise ConfigError(
            f"Config key {table.key('retry_max_seconds')} must not be below retry_min_seconds."
        )
    workers = table.get("upload_workers", int, 2)
    if not 1 <= workers <= 16:
        raise ConfigError(f"Config key {table.key('upload_workers')} must be 1 to 16.")
    folder = table.get("dir", str, "")
    if folder and kind is StorageKind.S3:
        raise ConfigError(
            f'Config key {table.key("dir")} is for kind = "local"; an S3 store has a bucket.'
        )
    location = _location(table, kind is StorageKind.S3, notice_countries)
    return StorageSettings(
        kind=kind,
        dir=base_dir / folder if folder else None,
        location=location,
        s3=_s3(table, env) if kind is StorageKind.S3 else None,
        outbox_dir=base_dir / table.get("outbox_dir", str, OUTBOX_DIR),
        retry_min_seconds=minimum,
        retry_max_seconds=maximum,
        upload_workers=workers,
    )


def _location(table: Table, required: bool, notice_countries: Collection[str]) -> str | None:
    code = table.get("location", str, "").upper()
    notice = sorted(notice_countries)
    if not code:
        if len(notice) == 1:
            return notice[0]
        if required:
            raise ConfigError(
                f"Config key {table.key('location')} is missing: name the country the bucket "
                "keeps its data in (e.g. PL), for the register of processing."
            )
        return None
    if not _COUNTRY.fullmatch(code) or code not in Locale.parse("en").territories:
        raise ConfigError(
            f"Config key {table.key('location')} must be a two-letter country code such as "
            f"PL, DE or FI (got {code!r})."
        )
    if notice and notice != [code]:
        raise ConfigError(
            f"Config key {table.key('location')} ({code}) differs from the storage_country "
            f"the privacy notice gives ({', '.join(notice)}); they must name the same country."
        )
    return code


def _s3(table: Table, env: Mapping[str, str]) -> S3Settings:
    bucket = table.get("bucket", str, "")
    if not bucket:
        raise ConfigError(f'Config key {table.key("bucket")} is missing (kind = "s3").')
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise ConfigError(
            f"Config key {table.key('bucket')} must be an S3 bucket name: 3 to 63 lower-case "
            f"letters, digits, dots and hyphens (got {bucket!r})."
        )
    region = table.matching("region", _REGION, "us-east-1")
    endpoint = table.get("endpoint_url", str, "")
    if endpoint and not endpoint.startswith(("http://", "https://")):
        raise ConfigError(
            f"Config key {table.key('endpoint_url')} must start with http:// or https://."
        )
    access_key = env.get(ENV_S3_ACCESS_KEY_ID) or table.get("access_key_id", str, "")
    secret = env.get(ENV_S3_SECRET_ACCESS_KEY) or table.get("secret_access_key", str, "")
    if bool(access_key) != bool(secret):
        raise ConfigError(
            f"Config keys {table.key('access_key_id')} and {table.key('secret_access_key')} "
            f"go together (or set {ENV_S3_ACCESS_KEY_ID} and {ENV_S3_SECRET_ACCESS_KEY}); "
            "leave both out to use the S3 client's own credentials."
        )
    # 16 MiB: measured on SeaweedFS, 8 MiB parts took half as long again as 16 MiB ones.
    part_mib = table.get("part_size_mib", int, 16)
    if not MIN_PART_MIB <= part_mib <= 1024:
        raise ConfigError(
            f"Config key {table.key('part_size_mib')} must be {MIN_PART_MIB} to 1024 (MiB)."
        )
    default_style = "path" if endpoint else "auto"
    return S3Settings(
        bucket=bucket,
        prefix=_prefix(table),
        region=region,
        endpoint_url=endpoint.rstrip("/") or None,
        access_key_id=access_key or None,
        secret_access_key=secret or None,
        addressing_style=table.choice("addressing_style", AddressingStyle, default_style),
        timeout_seconds=table.positive("timeout_seconds", 10.0),
        part_size_bytes=part_mib * MIB,
    )


def _prefix(table: Table) -> str:
    prefix = table.get("prefix", str, "").strip("/")
    if not prefix:
        return ""
    parts = prefix.split("/")
    if any(part in {"", ".", ".."} for part in parts) or not prefix.isprintable():
        raise ConfigError(
            f"Config key {table.key('prefix')} must be a relative path such as node-1 or "
            f"callrec/recordings (got {prefix!r})."
        )
    return f"{prefix}/"
