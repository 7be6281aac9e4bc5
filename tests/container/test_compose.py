"""deploy/compose.yaml read as YAML: every service, volume, file and build it names exists,
and the callrec config it mounts is valid and reachable from the other containers."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from callrec_ari.config import load

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file, decoded."""
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


def test_the_stack_has_asterisk_postgres_the_object_store_callrec_and_the_web_app(compose):
    """The services the README's picture shows, each with an image."""
    services = compose["services"]
    assert set(services) == {"asterisk", "postgres", "objectstore", "migrate", "callrec", "web"}
    assert all("image" in service for service in services.values())
    assert services["callrec"]["command"] == ["run", "--no-web"]
    assert services["web"]["command"] == ["web"]
    assert services["migrate"]["command"] == ["migrate"]


def test_every_volume_file_build_and_dependency_named_exists(compose):
    """Named volumes are declared, bind-mounted files and build contexts are in the
    repository, and depends_on names services."""
    services = compose["services"]
    declared = set(compose["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
            else:
                assert source in declared, f"{name}: {source}"
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).is_file(), name
        assert set(service.get("depends_on", {})) <= set(services), name
    used = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert declared <= used


def test_no_image_names_a_registry_host(compose):
    """Short image names only: no registry host is written into the repository."""
    for service in compose["services"].values():
        first = service["image"].split("/")[0]
        assert "." not in first or first == "localhost", service["image"]


def test_callrec_shares_asterisks_recordings_and_group_and_publishes_on_loopback(compose):
    """The service and the web app mount the recordings volume Asterisk writes, join its
    group, and publish their ports on 127.0.0.1 only."""
    services = compose["services"]
    asterisk = next(v for v in services["asterisk"]["volumes"] if v.startswith("recordings:"))
    gid = (DEPLOY / "asterisk" / "Containerfile").read_text(encoding="utf-8")
    for name in ("callrec", "web"):
        assert asterisk in services[name]["volumes"]
        assert services[name]["group_add"] == ["2000"]
        assert all(port.startswith("127.0.0.1:") for port in services[name]["ports"])
    assert "ARG RECORDINGS_GID=2000" in gid


def test_the_mounted_config_is_valid_and_listens_beyond_the_container():
    """deploy/compose/callrec.toml loads, with [service] and [web] on 0.0.0.0 and every
    state path on the callrec-state volume."""
    env = {"CALLREC_ARI_PASSWORD": "secret"}
    settings = load(DEPLOY / "compose" / "callrec.toml", env)
    assert settings.service.host == settings.web.host == "0.0.0.0"  # noqa: S104
    assert settings.ari.url == "http://asterisk:8088"
    for path in (
        settings.database.journal_dir,
        settings.web.secret_key_file,
        settings.audit.witness_key_file,
        settings.prompts.source_dir,
    ):
        assert path.is_relative_to("/var/lib/callrec"), path


def _gateway(
    compose: dict[str, Any], tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    """The object store's start command as compose hands it to the container's shell ($$ is
    compose's escape for $), with its /tmp as ``tmp_path`` and a stand-in ``weed`` that prints
    the identities file it was given instead of serving."""
    service = compose["services"]["objectstore"]
    assert service["entrypoint"] == ["/bin/sh", "-c"]
    script = service["command"][0].replace("$$", "$").replace("/tmp/", f"{tmp_path}/")
    shim = tmp_path / "bin" / "weed"
    shim.parent.mkdir()
    shim.write_text('#!/bin/sh\nfor a; do case "$a" in -s3.config=*) cat "${a#*=}";; esac; done\n')
    shim.chmod(0o755)
    path = f"{shim.parent}:/usr/bin:/bin"
    return subprocess.run(
        ["/bin/sh", "-c", script],
        env={"PATH": path, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_object_store_refuses_to_start_without_callrec_s_keys(compose, tmp_path):
    """Without both keys the gateway does not start (SeaweedFS would otherwise serve anyone on
    the network); compose itself also refuses to interpolate them when they are unset."""
    started = _gateway(compose, tmp_path, OBJECTSTORE_ACCESS_KEY="k")
    assert started.returncode == 1
    assert "set OBJECTSTORE_ACCESS_KEY and OBJECTSTORE_SECRET_KEY" in started.stderr
    environment = compose["services"]["objectstore"]["environment"]
    assert all(":?" in value for value in environment.values())


def test_the_object_store_s_only_identity_is_callrec_s(compose, tmp_path):
    """With both keys, SeaweedFS gets an identities file naming one identity: callrec's keys."""
    started = _gateway(
        compose, tmp_path, OBJECTSTORE_ACCESS_KEY="callrec-key", OBJECTSTORE_SECRET_KEY="s3cret"
    )
    assert started.returncode == 0, started.stderr
    [identity] = json.loads(started.stdout)["identities"]
    assert identity["credentials"] == [{"accessKey": "callrec-key", "secretKey": "s3cret"}]
