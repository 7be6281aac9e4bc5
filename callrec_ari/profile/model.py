"""The organisation profile: plain, frozen data the announcements and the notice are built from.

One profile per installation (the controller), with one ``Processing`` per route: what a
caller to that line is recorded for, on which legal basis, who receives it, where it is
stored. Retention is the route's policy, not repeated here. No I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Purpose(enum.StrEnum):
    """The fixed, translatable set of reasons a line is recorded for (seeds 000-004)."""

    SERVICE_QUALITY = "service_quality"  # seeds 000, 002, 003, 004
    EVIDENCE = "evidence"  # what was agreed or reported (seeds 000, 004)
    STAFF_SAFETY = "staff_safety"  # threats against staff (seeds 002, 003)
    COMPLAINTS = "complaints"  # handling complaints and claims (seed 004)
    TRAINING = "training"  # staff training (seed 003 §9)
    LEGAL_OBLIGATION = "legal_obligation"  # a law requires the recording


class LegalBasis(enum.StrEnum):
    """GDPR Art. 6(1) grounds a route's recording may rest on."""

    CONSENT = "consent"  # Art. 6(1)(a): seeds 000, 001, 004
    CONTRACT = "contract"  # Art. 6(1)(b)
    LEGAL_OBLIGATION = "legal_obligation"  # Art. 6(1)(c)
    PUBLIC_TASK = "public_task"  # Art. 6(1)(e): public bodies (seeds 002, 003)
    LEGITIMATE_INTERESTS = "legitimate_interests"  # Art. 6(1)(f)


@dataclass(frozen=True, kw_only=True)
class Processing:
    """What is done with one route's recordings, as the notice and the announcement say it."""

    purposes: tuple[Purpose, ...]
    purpose_text: str = ""  # free text beside the fixed purposes, in the notice only
    legal_basis: LegalBasis = LegalBasis.CONSENT
    recipients: str = ""  # who receives recordings besides authorised staff; "" = nobody
    storage_country: str = ""  # ISO 3166 alpha-2 code of where recordings are stored
    transfers: str = ""  # transfers outside the EU/EEA and their safeguard; "" = none


@dataclass(frozen=True, kw_only=True)
class Profile:
    """The controller and how to reach it, shared by every route."""

    controller_name: str
    controller_address: str
    dpo_contact: str  # the data-protection officer: name or role, and an address or e-mail
    notice_url: str  # where the full notice is published; the announcement names it
    supervisory_authority: str  # name and address of the authority callers may complain to
    processing: Processing  # the default route's; a route without its own uses this one
    # True only for the stand-in used when the config has no [profile]: nothing may be
    # published from it (``callrec notice``, the public notice page, ``prompts check``).
    placeholder: bool = False


# The profile of a configuration without a [profile] table: every text says what is missing.
_MISSING = "(not filled in: set [profile] {} in the configuration)"
PLACEHOLDER_PROFILE = Profile(
    controller_name=_MISSING.format("controller_name"),
    controller_address=_MISSING.format("controller_address"),
    dpo_contact=_MISSING.format("dpo_contact"),
    notice_url=_MISSING.format("notice_url"),
    supervisory_authority=_MISSING.format("supervisory_authority"),
    processing=Processing(purposes=(Purpose.SERVICE_QUALITY,)),
    placeholder=True,
)
