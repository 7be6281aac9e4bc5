"""``[storage]``: the local default, an S3 bucket with its credentials, one sentence per bad key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from callrec_ari.config import parse
from callrec_ari.config.parse import with_absolute_paths
from callrec_ari.config.storage import (
    ENV_S3_ACCESS_KEY_ID,
    ENV_S3_SECRET_ACCESS_KEY,
    AddressingStyle,
    StorageKind,
)
from callrec_ari.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
S3 = {
    "kind": "s3",
    "location": "pl",
    "bucket": "callrec-recordings",
    "endpoint_url": "https://s3.example.net/",
    "access_key_id": "AKIDEXAMPLE",
    "secret_access_key": "file-secret",
}


def example(**storage: Any) -> dict[str, Any]:
    """The example config with ``storage`` as its [storage] table (none if empty)."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.pop("storage", None)
    if storage:
        data["storage"] = storage
    return data


def test_without_a_storage_table_recordings_stay_in_the_folder():
    """No [storage]: the local kind, no S3 settings, the outbox beside the config, and the
    country the privacy notice gives ([profile] storage_country)."""
    settings = parse(example(), {}, base_dir=Path("/etc/callrec"))
    assert settings.storage.kind is StorageKind.LOCAL
    assert settings.storage.dir is None
    assert settings.storage.s3 is None
    assert settings.storage.outbox_dir == Path("/etc/callrec/var/outbox")
    assert settings.storage.location_name() == "Poland"


def test_without_a_profile_a_local_store_has_no_country():
    """No [profile] and no location: a local store names no country (nothing is published)."""
    data = example()
    data.pop("profile")
    assert parse(data, {}, base_dir=Path("/etc")).storage.location is None


def test_an_s3_store_needs_a_country_from_somewhere():
    """kind = s3 without location and without a profile to take it from: one sentence."""
    data = example(**{key: value for key, value in S3.items() if key != "location"})
    data.pop("profile")
    with pytest.raises(ConfigError, match=r"storage\.location is missing: name the country"):
        parse(data, {}, base_dir=Path("/etc"))
    data["storage"]["location"] = "SE"
    assert parse(data, {}, base_dir=Path("/etc")).storage.location_name() == "Sweden"


def test_the_location_must_agree_with_the_privacy_notice():
    """A bucket in another country than the notice's storage_country is refused at start."""
    with pytest.raises(ConfigError, match=r"storage.location \(DE\) differs from the"):
        parse(example(**{**S3, "location": "DE"}), {}, base_dir=Path("/etc"))
    values = {key: value for key, value in S3.items() if key != "location"}
    assert parse(example(**values), {}, base_dir=Path("/etc")).storage.location == "PL"


def test_an_s3_store_reads_bucket_endpoint_and_country():
    """kind = s3 takes the bucket, the endpoint (path-style by default) and the country."""
    storage = parse(example(**S3, prefix="/node-1/"), {}, base_dir=Path("/etc")).storage
    assert storage.kind is StorageKind.S3
    assert storage.location == "PL"
    assert storage.location_name() == "Poland"
    assert storage.location_name("de") == "Polen"
    s3 = storage.s3
    assert s3 is not None
    assert s3.bucket == "callrec-recordings"
    assert s3.prefix == "node-1/"
    assert s3.endpoint_url == "https://s3.example.net"
    assert s3.addressing_style is AddressingStyle.PATH
    assert s3.where == "bucket callrec-recordings at https://s3.example.net"


def test_credentials_from_the_environment_win_and_never_show():
    """Secrets in the environment override the file's, and repr() never shows either."""
    env = {ENV_S3_ACCESS_KEY_ID: "AKIDENV", ENV_S3_SECRET_ACCESS_KEY: "env-secret"}
    s3 = parse(example(**S3), env, base_dir=Path("/etc")).storage.s3
    assert s3 is not None
    assert (s3.access_key_id, s3.secret_access_key) == ("AKIDENV", "env-secret")
    assert "env-secret" not in repr(s3)
    assert "AKIDENV" not in repr(s3)


def test_no_credentials_leaves_them_to_the_client_s_own_chain():
    """Neither key nor secret: both None, for the S3 client's environment or instance role."""
    values = {key: value for key, value in S3.items() if "access" not in key}
    s3 = parse(example(**values), {}, base_dir=Path("/etc")).storage.s3
    assert s3 is not None
    assert s3.access_key_id is None
    assert s3.secret_access_key is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "nfs"}, "storage.kind must be one of local, s3"),
        ({"location": "Poland"}, "storage.location must be a two-letter country code"),
        ({"bucket": ""}, "storage.bucket is missing"),
        ({"bucket": "My_Bucket"}, "storage.bucket must be an S3 bucket name"),
        ({"endpoint_url": "s3.example.net"}, "storage.endpoint_url must start with http"),
        ({"secret_access_key": ""}, "access_key_id and storage.secret_access_key go together"),
        ({"prefix": "a/../b"}, "storage.prefix must be a relative path"),
        ({"part_size_mib": 1}, "storage.part_size_mib must be 5 to 1024"),
        ({"retry_max_seconds": 0.5}, "storage.retry_max_seconds must not be below"),
        ({"upload_workers": 0}, "storage.upload_workers must be 1 to 16"),
        ({"dir": "/srv/store"}, 'storage.dir is for kind = "local"'),
    ],
)
def test_a_bad_key_is_one_sentence_naming_it(change, message):
    """Each mistake stops start-up with a sentence naming the key."""
    with pytest.raises(ConfigError, match=message):
        parse(example(**{**S3, **change}), {}, base_dir=Path("/etc"))


def test_a_local_store_may_have_a_folder_of_its_own(tmp_path: Path):
    """kind = local with dir: relative to the config file, made absolute when written elsewhere."""
    data = example(kind="local", dir="store", location="pl")
    storage = parse(data, {}, base_dir=tmp_path).storage
    assert storage.dir == tmp_path / "store"
    assert storage.location == "PL"
    written = with_absolute_paths(data, tmp_path)
    assert written["storage"]["dir"] == str(tmp_path / "store")
    assert written["storage"]["outbox_dir"] == str(tmp_path / "var/outbox")


def test_an_s3_store_needs_encryption_on():
    """kind = s3 with [encryption] off is refused: plain WAVs never leave the machine."""
    data = example(**S3)
    data["encryption"] = {"enabled": False}
    with pytest.raises(ConfigError) as refused:
        parse(data, {}, base_dir=Path("/etc"))
    assert str(refused.value) == (
        'Config key storage.kind = "s3" needs [encryption] enabled = true: only encrypted '
        "recordings leave this machine."
    )
    data["storage"] = {"kind": "local"}
    assert parse(data, {}, base_dir=Path("/etc")).storage.kind is StorageKind.LOCAL
