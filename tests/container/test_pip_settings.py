"""This machine's pip settings become build arguments and read-only mounts, and only that."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from tests.container.pip_settings import build_settings, parse_listing

LISTING = """\
:env:.find-links='{wheels}'
:env:.default-timeout='180'
global.extra-index-url='file://{index} https://packages.example.org/simple'
global.find-links='/nowhere/else'
global.constraint='{constraints}'
global.cert='/etc/ssl/certs/ca-certificates.crt'
user.index-url='https://mirror.example.org/simple'
global.index-url='https://ignored.example.org/simple'
site.no-cache-dir='true'
"""


def local_layout(tmp_path: Path) -> dict[str, Path]:
    """A local index (simple/ beside files/), a wheel folder and a constraints file."""
    (tmp_path / "pypi" / "simple").mkdir(parents=True)
    (tmp_path / "pypi" / "files").mkdir()
    (tmp_path / "wheels").mkdir()
    (tmp_path / "constraints.txt").write_text("torch<=2\n")
    return {
        "index": tmp_path / "pypi" / "simple",
        "wheels": tmp_path / "wheels",
        "constraints": tmp_path / "constraints.txt",
    }


def test_the_environment_wins_over_files_and_the_user_over_global():
    """pip's own order: global, user, site, then PIP_* variables."""
    settings = parse_listing(LISTING.format(wheels="/w", index="/i/simple", constraints="/c"))
    assert settings["find-links"] == "/w"
    assert settings["index-url"] == "https://mirror.example.org/simple"
    assert settings["no-cache-dir"] == "true"


def test_local_paths_are_mounted_read_only_and_rewritten(tmp_path: Path):
    """A file:// index is mounted with its files beside it, a wheel folder and the
    constraints file as they are; remote indexes and settings not about sources pass
    unchanged, and settings not about where packages come from are left out."""
    paths = local_layout(tmp_path)
    build = build_settings(parse_listing(LISTING.format(**paths)))
    inside = PurePosixPath("/run/pip-host") / str(tmp_path).lstrip("/")
    assert build.args == {
        "PIP_INDEX_URL": "https://mirror.example.org/simple",
        "PIP_EXTRA_INDEX_URL": f"file://{inside}/pypi/simple https://packages.example.org/simple",
        "PIP_FIND_LINKS": f"{inside}/wheels",
        "PIP_CONSTRAINT": f"{inside}/constraints.txt",
        "PIP_CERT": "/run/pip-host/etc/ssl/certs/ca-certificates.crt",
        "PIP_DEFAULT_TIMEOUT": "180",
    }
    assert (tmp_path / "pypi", inside / "pypi") in build.mounts
    options = build.podman_options()
    assert f"{tmp_path / 'wheels'}:{inside}/wheels:ro" in options
    assert "PIP_NO_CACHE_DIR" not in " ".join(options)


def test_a_path_that_does_not_exist_is_passed_as_it_is(tmp_path: Path):
    """Nothing to mount: the setting reaches pip unchanged, and pip says what is wrong."""
    build = build_settings({"find-links": "/nowhere/wheels"})
    assert build.args == {"PIP_FIND_LINKS": "/nowhere/wheels"}
    assert build.mounts == []
