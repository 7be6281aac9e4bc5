"""The fictitious organisation the committed prompts in ``prompts/`` are composed for.

The same values as ``[profile]`` in ``config.example.toml``: the committed WAVs then say
what a checkout's example configuration describes. A real installation composes its own
with ``callrec prompts build``.
"""

from __future__ import annotations

from callrec_ari.profile.model import LegalBasis, Processing, Profile, Purpose

EXAMPLE_PROFILE = Profile(
    controller_name="Aurora Services",
    controller_address="Example Street 1, 00-950 Example City, Poland",
    dpo_contact="Data protection officer, dpo@aurora.example",
    notice_url="https://aurora.example",
    supervisory_authority="The national data protection authority",
    processing=Processing(
        purposes=(Purpose.SERVICE_QUALITY, Purpose.EVIDENCE, Purpose.STAFF_SAFETY),
        legal_basis=LegalBasis.CONSENT,
        storage_country="PL",
    ),
)
