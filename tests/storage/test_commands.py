"""``callrec storage check``: one line saying the store works, or one naming what is wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path

import tomli_w

from callrec_ari.__main__ import main
from tests.storage.conftest import BUCKET
from tests.support.postgres import free_port
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def write_config(tmp_path: Path, storage: dict[str, object]) -> Path:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["recording"]["service_dir"] = str(tmp_path / "recordings")
    data["storage"] = storage
    path = tmp_path / "callrec.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def s3_table(endpoint: str, **changes: object) -> dict[str, object]:
    return {
        "kind": "s3",
        "location": "PL",
        "bucket": BUCKET,
        "endpoint_url": endpoint,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "timeout_seconds": 2.0,
        **changes,
    }


def test_a_working_bucket_is_one_line_with_its_country(seaweed, tmp_path, capsys):
    """The probe object is stored, read back and deleted; the bucket keeps nothing of it."""
    config = write_config(tmp_path, s3_table(seaweed.endpoint_url))
    assert main(["storage", "check", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"The bucket {BUCKET} at {seaweed.endpoint_url} stores, reads and deletes recordings. "
        "Location: Poland.\n"
    )
    listed = seaweed.client().list_objects_v2(Bucket=BUCKET, Prefix=".callrec-check")
    assert listed.get("Contents", []) == []


def test_the_local_default_checks_the_recordings_folder(tmp_path, capsys):
    """Without [storage], the recordings folder is the store (in the country the privacy
    notice gives), and is left as it was."""
    (tmp_path / "recordings").mkdir()
    config = write_config(tmp_path, {})
    assert main(["storage", "check", "-c", str(config)]) == 0
    assert capsys.readouterr().out == (
        f"The folder {tmp_path / 'recordings'} stores, reads and deletes recordings. "
        "Location: Poland.\n"
    )
    assert list((tmp_path / "recordings").iterdir()) == []


def test_a_refused_secret_is_one_sentence_without_a_traceback(seaweed, tmp_path, capsys):
    """Wrong credentials: exit 2 and one line naming bucket and endpoint, never the secret."""
    config = write_config(tmp_path, s3_table(seaweed.endpoint_url, secret_access_key="wrong!"))
    assert main(["storage", "check", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"callrec: The bucket {BUCKET} at {seaweed.endpoint_url} refused callrec's credentials "
        "(SignatureDoesNotMatch).\n"
    )


def test_an_unreachable_store_is_one_sentence_without_a_traceback(tmp_path, capsys):
    """Nothing listening at the endpoint: exit 2, one line saying it cannot be reached."""
    endpoint = f"http://127.0.0.1:{free_port()}"
    config = write_config(tmp_path, s3_table(endpoint))
    assert main(["storage", "check", "-c", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == f"callrec: The bucket {BUCKET} at {endpoint} cannot be reached (no connection).\n"
