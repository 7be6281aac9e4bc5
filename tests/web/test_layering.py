"""The web layer holds no queries: it reaches the database only through the service layer,
which the command line shares."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import callrec_ari.web

WEB = Path(callrec_ari.web.__file__).parent
MODULES = sorted(WEB.rglob("*.py"))
# Opening sessions and naming their type is the web layer's; rows and queries are not.
ALLOWED_DB = frozenset({"callrec_ari.db.session"})


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth of the file (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module in {"callrec_ari", "callrec_ari.db"}:  # from callrec_ari.db import x
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_scan_sees_the_web_modules():
    """A moved folder must not make the checks below pass on nothing."""
    names = {path.name for path in MODULES}
    assert {"app.py", "calls.py", "auth.py", "releases.py", "admin_prompts.py"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda path: path.name)
def test_no_web_module_imports_sqlalchemy_or_the_tables(path):
    """No ``sqlalchemy`` import and no ORM model: SQL belongs to the service layer."""
    modules = imported(path)
    assert not {name for name in modules if name.split(".")[0] == "sqlalchemy"}
    database = {name for name in modules if name.startswith("callrec_ari.db")}
    assert database <= ALLOWED_DB, f"{path.name} reaches into {sorted(database - ALLOWED_DB)}"
