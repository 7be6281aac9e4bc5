"""Time-based one-time codes (RFC 6238) for the second step of signing in.

Codes are checked against an injected time, and each 30-second step is accepted once: the
step of the last accepted code is stored, and a code of that step or an earlier one is refused.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
import segno

ISSUER = "callrec"
DRIFT_STEPS = 1  # the phone's clock may be one step (30 s) ahead or behind
_CODE = re.compile(r"[0-9]{6}")  # ASCII only: str.isdigit() would take other scripts' digits


def new_secret() -> str:
    """A new random base32 secret (160 bits) for one person's authenticator app."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """``uri`` as a QR code in SVG markup to put inline in a page (no XML declaration)."""
    return segno.make(uri, error="m").svg_inline(scale=4)


def matching_step(secret: str, code: str, now: datetime, *, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, within one step of ``now``; None if it matches none,
    is not six digits, or belongs to a step at or before ``last_step`` (a replay)."""
    if _CODE.fullmatch(code) is None:
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None
