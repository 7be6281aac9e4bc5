"""Jinja2 pages in the reader's language, autoescaped, with the CSRF token at hand."""

from __future__ import annotations

import functools
import gettext
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from callrec_ari.web.i18n import LANGUAGES, language_names, load_catalogs

TEMPLATE_DIR = Path(__file__).parent / "templates"


def _when(moment: datetime | None) -> str:
    """A timestamp for staff: UTC, to the second, no ambiguity."""
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _value(value: Any) -> str:
    """A stored JSON value as written: text as it is, anything else in JSON notation
    (``true``, ``null``, ``["admin"]``) rather than Python's ``True``, ``None``, ``['admin']``."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates in memory, shared by the languages' environments: the compiled
    code does not depend on the language (gettext is called when the page renders)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


@functools.cache  # one per process: the templates are package data
def _compiled_templates() -> _CompiledTemplates:
    return _CompiledTemplates()


class Renderer:
    """One Jinja2 environment per language; templates are compiled once and cached."""

    def __init__(self, template_dir: Path = TEMPLATE_DIR) -> None:
        catalogs = load_catalogs()
        names = language_names()
        self._environments: dict[str, jinja2.Environment] = {}
        for language in LANGUAGES:
            environment = jinja2.Environment(
                loader=jinja2.FileSystemLoader(template_dir),
                autoescape=True,
                undefined=jinja2.StrictUndefined,  # a misspelt name fails the test, not the page
                extensions=["jinja2.ext.i18n"],
                bytecode_cache=_compiled_templates(),
            )
            environment.install_gettext_translations(  # type: ignore[attr-defined]
                catalogs[language], newstyle=True
            )
            environment.filters["when"] = _when
            environment.filters["value"] = _value
            environment.globals["languages"] = names
            self._environments[language] = environment
        self.catalogs: Mapping[str, gettext.NullTranslations] = catalogs

    def gettext(self, language: str, message: str) -> str:
        """``message`` in ``language`` (for texts built in Python, such as flash messages)."""
        return self.catalogs.get(language, self.catalogs["en"]).gettext(message)

    def page(
        self,
        template: str,
        *,
        language: str,
        context: Mapping[str, Any],
        status: int = 200,
    ) -> web.Response:
        """The rendered template as an HTML response."""
        environment = self._environments.get(language, self._environments["en"])
        body = environment.get_template(template).render(language=language, **context)
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
