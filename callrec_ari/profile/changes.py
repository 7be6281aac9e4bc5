"""The admin's changes to the organisation profile, checked and applied: pure.

The admin may set any of the profile's named fields and the processing of any dialled
number that has a route (``*``: the profile's default processing). A change replaces the
config file's value; removing it brings that value back.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from callrec_ari.errors import InputError
from callrec_ari.profile.model import LegalBasis, Processing, Profile, Purpose

DEFAULT_DID = "*"  # the stored key of the profile's default processing
FIELDS = (
    "controller_name",
    "controller_address",
    "dpo_contact",
    "notice_url",
    "supervisory_authority",
)
TEXT_MAX = 2000  # characters of one field: a notice paragraph, not a document
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True, kw_only=True)
class ProfileChanges:
    """The admin's profile fields (by name) and processing (by dialled number, ``*``)."""

    fields: Mapping[str, str] = field(default_factory=dict)
    processing: Mapping[str, Processing] = field(default_factory=dict)


NO_CHANGES = ProfileChanges()


def field_value(name: str, value: str) -> str:
    """A checked value of the profile field ``name``; ``InputError`` naming what is wrong."""
    if name not in FIELDS:
        raise InputError(f"{name[:40]!r} is not a profile field ({', '.join(FIELDS)}).")
    value = value.strip()
    if not value:
        raise InputError(f"The profile field {name} must not be empty.")
    if len(value) > TEXT_MAX:
        raise InputError(f"The profile field {name} is longer than {TEXT_MAX} characters.")
    if name == "notice_url" and not value.startswith(("https://", "http://")):
        raise InputError("The notice address must start with https://.")
    return value


def processing(
    *,
    purposes: Iterable[str],
    purpose_text: str = "",
    legal_basis: str = LegalBasis.CONSENT.value,
    recipients: str = "",
    storage_country: str,
    transfers: str = "",
) -> Processing:
    """A checked processing; ``InputError`` naming the field at fault."""
    chosen: list[Purpose] = []
    for text in (item.strip() for item in purposes):
        if not text:
            continue
        try:
            purpose = Purpose(text)
        except ValueError:
            known = ", ".join(p.value for p in Purpose)
            raise InputError(f"{text[:40]!r} is not a purpose (known: {known}).") from None
        if purpose not in chosen:
            chosen.append(purpose)
    if not chosen:
        raise InputError("A processing needs at least one purpose.")
    try:
        basis = LegalBasis(legal_basis.strip())
    except ValueError:
        known = ", ".join(b.value for b in LegalBasis)
        raise InputError(f"{legal_basis[:40]!r} is not a legal basis (known: {known}).") from None
    country = storage_country.strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise InputError(f"{storage_country[:20]!r} is not a two-letter country code such as PL.")
    texts = {"purpose_text": purpose_text, "recipients": recipients, "transfers": transfers}
    for name, text in texts.items():
        if len(text) > TEXT_MAX:
            raise InputError(f"The field {name} is longer than {TEXT_MAX} characters.")
    return Processing(
        purposes=tuple(chosen),
        legal_basis=basis,
        storage_country=country,
        **{name: text.strip() for name, text in texts.items()},
    )


def apply_profile(profile: Profile, changes: ProfileChanges) -> Profile:
    """``profile`` with the admin's fields and default processing applied.

    A placeholder profile stays one until the admin has set every field and the default
    processing: a notice is never published half filled in.
    """
    complete = set(FIELDS) <= set(changes.fields) and DEFAULT_DID in changes.processing
    return dataclasses.replace(
        profile,
        **dict(changes.fields),
        processing=changes.processing.get(DEFAULT_DID, profile.processing),
        placeholder=profile.placeholder and not complete,
    )
