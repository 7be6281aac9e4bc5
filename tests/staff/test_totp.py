"""One-time codes: secrets, the enrolment QR code, matching with drift and refusing replays."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from callrec_ari.staff.totp import matching_step, new_secret, provisioning_uri, qr_svg

NOW = datetime(2026, 12, 1, 12, 0, 10, tzinfo=UTC)


def test_secrets_are_random_base32_of_160_bits():
    """Two secrets differ; each is 32 base32 characters."""
    first, second = new_secret(), new_secret()
    assert first != second
    assert re.fullmatch(r"[A-Z2-7]{32}", first)


def test_the_provisioning_uri_names_the_user_and_issuer():
    """Authenticator apps show "callrec (anna)" and read the secret from the URI."""
    secret = new_secret()
    uri = urlsplit(provisioning_uri(secret, "anna"))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/callrec:anna")
    query = parse_qs(uri.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["callrec"]


def test_the_qr_code_is_inline_svg_without_declaration_or_script():
    """Markup to put straight into a page."""
    svg = qr_svg(provisioning_uri(new_secret(), "anna"))
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<script" not in svg.lower()


def test_a_code_matches_now_and_one_step_either_side():
    """The phone's clock may be 30 s off either way; the matched step is returned."""
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    step = totp.timecode(NOW)
    for offset in (-1, 0, 1):
        code = totp.at(NOW, counter_offset=offset)
        assert matching_step(secret, code, NOW, last_step=None) == step + offset


def test_a_code_two_steps_away_is_refused():
    """A minute old (or early) is too far."""
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    assert matching_step(secret, totp.at(NOW - timedelta(seconds=60)), NOW, last_step=None) is None
    assert matching_step(secret, totp.at(NOW + timedelta(seconds=60)), NOW, last_step=None) is None


def test_a_code_is_accepted_once():
    """The step of the last accepted code, and any earlier one, is refused: no replay."""
    secret = new_secret()
    totp = pyotp.TOTP(secret)
    code = totp.at(NOW)
    step = matching_step(secret, code, NOW, last_step=None)
    assert step is not None
    assert matching_step(secret, code, NOW, last_step=step) is None
    previous = totp.at(NOW, counter_offset=-1)
    assert matching_step(secret, previous, NOW, last_step=step) is None
    assert matching_step(secret, totp.at(NOW, counter_offset=1), NOW, last_step=step) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12 345", "abcdef", "١٢٣٤٥٦"])
def test_anything_but_six_ascii_digits_is_refused(code):
    """Wrong lengths, spaces, letters and other scripts' digits never match."""
    assert matching_step(new_secret(), code, NOW, last_step=None) is None


def test_another_secret_code_does_not_match():
    """A code from someone else's app is wrong."""
    mine, theirs = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"
    code = pyotp.TOTP(theirs).at(NOW)
    assert matching_step(mine, code, NOW, last_step=None) is None
