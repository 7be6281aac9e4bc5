"""The ``[profile]`` table and each ``[[route]]``'s processing keys, checked on the way in.

A configuration without ``[profile]`` gets the placeholder profile, which nothing may
publish; a route without processing keys uses the profile's processing.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from callrec_ari.config.table import Table
from callrec_ari.errors import ConfigError
from callrec_ari.profile.model import (
    PLACEHOLDER_PROFILE,
    LegalBasis,
    Processing,
    Profile,
    Purpose,
)

PROCESSING_KEYS = (
    "purposes",
    "purpose_text",
    "legal_basis",
    "recipients",
    "storage_country",
    "transfers",
)
_COUNTRY = re.compile(r"[A-Z]{2}")
_TEXT_MAX = 2000  # characters of one free text: a notice paragraph, not a document


def profile(table: Table, *, present: bool) -> Profile:
    """The profile of ``[profile]``; the placeholder when the table is absent."""
    if not present:
        return PLACEHOLDER_PROFILE
    notice_url = _text(table, "notice_url", required=True)
    if not notice_url.startswith(("https://", "http://")):
        raise ConfigError(f"Config key {table.key('notice_url')} must start with https://.")
    return Profile(
        controller_name=_text(table, "controller_name", required=True),
        controller_address=_text(table, "controller_address", required=True),
        dpo_contact=_text(table, "dpo_contact", required=True),
        notice_url=notice_url,
        supervisory_authority=_text(table, "supervisory_authority", required=True),
        processing=processing(table, PLACEHOLDER_PROFILE.processing, complete=True),
    )


def processing(table: Table, default: Processing, *, complete: bool = False) -> Processing:
    """``default`` with the processing keys ``table`` sets; ``complete``: purposes required."""
    changes: dict[str, Any] = {}
    if complete or table.raw("purposes") is not None:
        changes["purposes"] = _purposes(table)
    if table.raw("legal_basis") is not None:
        changes["legal_basis"] = table.choice("legal_basis", LegalBasis, "consent")
    for key in ("purpose_text", "recipients", "transfers"):
        if table.raw(key) is not None:
            changes[key] = _text(table, key)
    if table.raw("storage_country") is not None:
        changes["storage_country"] = table.matching("storage_country", _COUNTRY)
    elif complete:
        raise ConfigError(
            f"Config key {table.key('storage_country')} is missing (a country code such as PL)."
        )
    return dataclasses.replace(default, **changes)


def route_processing(table: Table, default: Processing | None) -> Processing | None:
    """A ``[[route]]``'s own processing over ``default``, or ``None`` if it sets none of the
    keys. ``default`` is ``None`` for ``[default_route]``, whose processing is the profile's:
    a key there is refused rather than silently ignored."""
    given = [key for key in PROCESSING_KEYS if table.raw(key) is not None]
    if not given:
        return None
    if default is None:
        raise ConfigError(
            f"Config key {table.key(given[0])} belongs in [profile]: the default route's "
            "processing is the profile's."
        )
    return processing(table, default)


def _purposes(table: Table) -> tuple[Purpose, ...]:
    raw = table.raw("purposes")
    allowed = ", ".join(purpose.value for purpose in Purpose)
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            f"Config key {table.key('purposes')} must be a non-empty list of: {allowed}."
        )
    result: list[Purpose] = []
    for item in raw:
        try:
            purpose = Purpose(item)
        except ValueError:
            raise ConfigError(
                f"Config key {table.key('purposes')} has an unknown purpose {item!r} "
                f"(known: {allowed})."
            ) from None
        if purpose not in result:
            result.append(purpose)
    return tuple(result)


def _text(table: Table, key: str, *, required: bool = False) -> str:
    value = table.get(key, str, None if required else "").strip()
    if required and not value:
        raise ConfigError(f"Config key {table.key(key)} must not be empty.")
    if len(value) > _TEXT_MAX:
        raise ConfigError(f"Config key {table.key(key)} is longer than {_TEXT_MAX} characters.")
    return value
