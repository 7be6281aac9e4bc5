"""The tables. Enum values are stored as short strings, not native enums, so that adding a
value never needs a migration that PostgreSQL and SQLite would each do differently."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from callrec_ari.db.base import Base, UtcDateTime

# SQLite only auto-numbers a primary key declared exactly INTEGER; PostgreSQL gets 64 bits,
# since every upsert of a known call still draws a number from the sequence.
_ID = BigInteger().with_variant(Integer(), "sqlite")
_NOW = text("CURRENT_TIMESTAMP")


class Call(Base):
    """One call: the latest ``CallRecord`` snapshot stored under its Asterisk ``uniqueid``."""

    __tablename__ = "calls"
    __table_args__ = (
        # Searches are by number, agent or period over about a million rows, newest first.
        Index("ix_calls_caller_number_started_at", "caller_number", "started_at"),
        Index("ix_calls_started_at", "started_at"),
        Index("ix_calls_agent_started_at", "agent", "started_at"),
        # Data-subject requests find a person's calls by normalised number.
        Index("ix_calls_caller_e164_started_at", "caller_e164", "started_at"),
        # The purge finds due rows without reading the rest.
        Index("ix_calls_delete_after", "delete_after"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(16))
    caller_number: Mapped[str | None] = mapped_column(String(64))
    caller_e164: Mapped[str | None] = mapped_column(String(20))
    dialled_number: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(128))
    languages: Mapped[str] = mapped_column(String(128))  # comma-separated, in order
    consent: Mapped[str] = mapped_column(String(32))  # widened by migration 0006
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    recording_path: Mapped[str | None] = mapped_column(String(1024))
    recording_status: Mapped[str] = mapped_column(String(16))
    duration_seconds: Mapped[float | None] = mapped_column(Float())
    size_bytes: Mapped[int | None] = mapped_column(BigInteger())
    sha256: Mapped[str | None] = mapped_column(String(64))
    retention_policy: Mapped[str] = mapped_column(String(64))
    # Null only on rows stored before retention dates were kept; the purge fills it in.
    delete_after: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The consent step's evidence as JSON (evidence/facts.py); None on rows from before 0009.
    evidence: Mapped[str | None] = mapped_column(Text())

    # When the caller withdrew consent mid-call (consent "withdrawn"); added by migration 0010.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The legs beside the mix (recording/legs.py): the data subject's voice alone and the staff
    # member's alone, measured like the mix; added by migration 0012.
    caller_leg_size_bytes: Mapped[int | None] = mapped_column(BigInteger())
    caller_leg_sha256: Mapped[str | None] = mapped_column(String(64))
    agent_leg_size_bytes: Mapped[int | None] = mapped_column(BigInteger())
    agent_leg_sha256: Mapped[str | None] = mapped_column(String(64))
    # What cut the recording short ("pbx": Asterisk died mid-call and callrec repaired the
    # file, recording/repair.py); None otherwise and on rows from before migration 0016.
    interrupted_by: Mapped[str | None] = mapped_column(String(16))
    # The [ari] app of the instance that wrote the row last (README, "Two instances");
    # None on rows from before migration 0014. Stamped by the writer, not part of a snapshot.
    handled_by: Mapped[str | None] = mapped_column(String(80))
    # The PBX node whose callrec first wrote the row ([service] node; README, "Several
    # nodes"); None on rows from before migration 0017. Stamped by the writer, like handled_by.
    node: Mapped[str | None] = mapped_column(String(64), index=True)
    # Lifecycle, set by staff and the purge job, never by call snapshots:
    erasure_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    erasure_request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_requests.id"))
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    purge_reason: Mapped[str | None] = mapped_column(String(16))  # retention | erasure
    restricted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    restricted_by: Mapped[str | None] = mapped_column(String(128))
    restriction_reason: Mapped[str | None] = mapped_column(Text())
    rectified_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_NOW)


class CallAgent(Base):
    """One agent's part of a call (agent_legs.py): a queued or transferred call has several.
    Written by the writer beside the call's row; ``calls.agent`` stays the first agent."""

    __tablename__ = "call_agents"
    __table_args__ = (
        UniqueConstraint("call_uniqueid", "channel_id"),
        # "An agent's own calls" (access, search by agent) looks calls up by agent.
        Index("ix_call_agents_agent", "agent", "call_uniqueid"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    call_uniqueid: Mapped[str] = mapped_column(ForeignKey("calls.uniqueid", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(128))
    joined_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LegalHold(Base):
    """A hold stops the deletion of its calls until released (or its end date passes)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    case_reference: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text())
    placed_by: Mapped[str] = mapped_column(String(128))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # What was asked for when the hold was placed by number and period (kept for the record).
    number_e164: Mapped[str | None] = mapped_column(String(20))
    period_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    period_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    released_by: Mapped[str | None] = mapped_column(String(128))
    release_reason: Mapped[str | None] = mapped_column(Text())


class LegalHoldCall(Base):
    """Which calls a hold covers."""

    __tablename__ = "legal_hold_calls"
    __table_args__ = (Index("ix_legal_hold_calls_call_id", "call_id"),)

    hold_id: Mapped[int] = mapped_column(ForeignKey("legal_holds.id"), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), primary_key=True)


class DsrRequest(Base):
    """A data-subject request (GDPR Art. 15-21), tracked from receipt to answer."""

    __tablename__ = "dsr_requests"
    __table_args__ = (
        Index("ix_dsr_requests_status_due_at", "status", "due_at"),
        Index("ix_dsr_requests_number_e164", "number_e164"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # access, erasure, rectification, ...
    number_e164: Mapped[str] = mapped_column(String(20))
    requester: Mapped[str] = mapped_column(String(256))
    received_on: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    extended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    extension_reason: Mapped[str | None] = mapped_column(Text())
    status: Mapped[str] = mapped_column(String(16))  # open, done, rejected
    created_by: Mapped[str] = mapped_column(String(128))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    notes: Mapped[str | None] = mapped_column(Text())


class DsrAction(Base):
    """One thing done for a request (or on staff's own initiative when request_id is null)."""

    __tablename__ = "dsr_actions"
    __table_args__ = (Index("ix_dsr_actions_request_id", "request_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_requests.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text())  # JSON


class DoNotRecord(Base):
    """A number whose calls are connected without recording."""

    __tablename__ = "do_not_record"

    number_e164: Mapped[str] = mapped_column(String(20), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
    added_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text())
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_requests.id"))


class CallCorrection(Base):
    """One rectified field of a call: the original stays visible here (seed 002 §15)."""

    __tablename__ = "call_corrections"
    __table_args__ = (Index("ix_call_corrections_call_id", "call_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text())
    new_value: Mapped[str | None] = mapped_column(Text())
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(Text())
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_requests.id"))


class User(Base):
    """A member of staff who signs in to the web app."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id, with its parameters
    extension: Mapped[str | None] = mapped_column(String(128))  # as calls store the agent
    language: Mapped[str] = mapped_column(String(8))  # the staff member's own UI language
    # TOTP (RFC 6238): the secret is set at enrolment and counts once a first code matched.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    totp_exempt_by: Mapped[str | None] = mapped_column(String(64))  # the admin who exempted
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger())  # a code is used once
    failed_logins: Mapped[int] = mapped_column(Integer(), server_default=text("0"))
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Cookies carry the whole session: one started before this moment is no longer valid.
    sessions_revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class UserRole(Base):
    """One role a user holds; a user may hold several."""

    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class AuditHead(Base):
    """The newest audit entry's number and hash: one row, locked by every append so the chain
    has no forks, and compared by ``callrec audit verify`` so a removed tail shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer(), primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(BigInteger())
    hash: Mapped[str] = mapped_column(String(64))


class AuditEntry(Base):
    """One thing staff did, hash-chained to the entry before it (append-only)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
    )

    seq: Mapped[int] = mapped_column(BigInteger(), primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))  # a username, or cli:<os user>
    action: Mapped[str] = mapped_column(String(32))  # login, play, hold.place, ...
    target: Mapped[str | None] = mapped_column(String(128))  # a call's uniqueid, a user...
    detail: Mapped[str] = mapped_column(Text())  # canonical JSON
    client: Mapped[str | None] = mapped_column(String(64))  # the remote address
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Release(Base):
    """A request to give a call's recording to a third party, decided by the director."""

    __tablename__ = "releases"
    __table_args__ = (Index("ix_releases_status_requested_at", "status", "requested_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    recipient: Mapped[str] = mapped_column(String(256))
    legal_ground: Mapped[str] = mapped_column(Text())
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(16))  # pending approved refused used expired
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text())
    token_sha256: Mapped[str | None] = mapped_column(String(64))  # the one-time download link
    # The link itself, sealed with the web app's key so only its page can show it to the
    # person who asked; cleared once used. The database alone cannot open it.
    token_sealed: Mapped[str | None] = mapped_column(Text())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    downloaded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    downloaded_by: Mapped[str | None] = mapped_column(String(64))


class PolicyChange(Base):
    """A retention policy set by the admin at run time, over the config file's."""

    __tablename__ = "policy_changes"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    days: Mapped[int | None] = mapped_column(Integer())  # days or months, never both
    months: Mapped[int | None] = mapped_column(Integer())
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(64))


class RouteChange(Base):
    """A dialled number's route set by the admin at run time (``*``: the default route)."""

    __tablename__ = "route_changes"

    did: Mapped[str] = mapped_column(String(64), primary_key=True)
    languages: Mapped[str] = mapped_column(String(128))  # comma-separated, in order
    prompt: Mapped[str] = mapped_column(String(64))
    retention: Mapped[str] = mapped_column(String(64))
    on_decline: Mapped[str] = mapped_column(String(16))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(64))


class PendingGrant(Base):
    """A privileged role or a two-factor exemption asked for by one admin, effective only
    once a different admin approves it (four eyes). Kept after the decision, for the record."""

    __tablename__ = "pending_grants"
    __table_args__ = (Index("ix_pending_grants_user_id_outcome", "user_id", "outcome"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # role, totp_exempt
    role: Mapped[str | None] = mapped_column(String(16))  # for kind role
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))  # None while pending; approved...
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ProfileChange(Base):
    """One field of the organisation profile set by the admin at run time (the controller's
    name, address, data-protection officer, notice address, supervisory authority)."""

    __tablename__ = "profile_changes"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text())
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(64))


class ProcessingChange(Base):
    """What is done with one dialled number's recordings, set by the admin at run time
    (``*``: the profile's default processing)."""

    __tablename__ = "processing_changes"

    did: Mapped[str] = mapped_column(String(64), primary_key=True)
    purposes: Mapped[str] = mapped_column(String(200))  # comma-separated Purpose values
    purpose_text: Mapped[str] = mapped_column(Text())
    legal_basis: Mapped[str] = mapped_column(String(32))
    recipients: Mapped[str] = mapped_column(Text())
    storage_country: Mapped[str] = mapped_column(String(2))
    transfers: Mapped[str] = mapped_column(Text())
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changed_by: Mapped[str] = mapped_column(String(64))


class PromptVersion(Base):
    """One version of one installed prompt file: its audio's hash, kept with a copy of the
    audio while it is current or any kept call's evidence names its hash."""

    __tablename__ = "prompt_versions"
    __table_args__ = (
        UniqueConstraint("name", "language", "version"),
        Index("ix_prompt_versions_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer())
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(128))
    source: Mapped[str] = mapped_column(String(16))  # install | replace | outside
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # None: current
    audio_path: Mapped[str | None] = mapped_column(String(256))  # under the archive folder
    audio_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Copy(Base):
    """A copy of a recording that left callrec: a redeemed release or a data-subject export.

    The register the dpo reads when a number is erased (seed 001): which copies exist outside.
    Rows are only added; ``call_id`` stays after the call is reduced, the uniqueid with it.
    """

    __tablename__ = "copies"
    __table_args__ = (Index("ix_copies_call_id", "call_id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    uniqueid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "mix" or "caller" (the caller's leg alone)
    sha256: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(256))  # to whom the copy went
    purpose: Mapped[str] = mapped_column(Text())  # why: the legal ground or the request kind
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_requests.id"))
    # The agent's consent to a copy of the mix (seed 004), as the dpo stated it; JSON or null.
    consent: Mapped[str | None] = mapped_column(Text())
    made_at: Mapped[datetime] = mapped_column(UtcDateTime())
    made_by: Mapped[str] = mapped_column(String(64))


class TrainingCopy(Base):
    """An anonymised copy of a call for training (seed 003 §9), in the training library.

    Nothing here leads back to the call: no uniqueid, number, agent, exact time, duration,
    recording path or hash of the original; the id and the file name are random tokens and
    the month is all that is kept of when it was made. Only the audit trail's
    ``training.made`` names the original call, and it holds no copy id.
    """

    __tablename__ = "training_copies"
    __table_args__ = (Index("ix_training_copies_expires_on", "expires_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, never sequential
    file: Mapped[str] = mapped_column(String(64))  # <random token>.wav in the library folder
    sha256: Mapped[str] = mapped_column(String(64))  # of the copy's file
    topic: Mapped[str] = mapped_column(String(200))  # the supervisor's words: no personal data
    language: Mapped[str | None] = mapped_column(String(16))  # the call's first language
    caller_voice: Mapped[str] = mapped_column(String(16))  # disguised | removed
    made_month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    expires_on: Mapped[date] = mapped_column(Date())  # the purge deletes it from this day
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RecordingKey(Base):
    """A recording's data key, wrapped by a master key (``crypto/keys.py``).

    Kept here, never beside the audio: deleting the row (erasure, purge) leaves any copy of
    the encrypted files, a backup's too, impossible to decrypt. Keyed by the mix's path, as
    the call's row stores it; no foreign key, since a recording is sealed as soon as it
    closes, possibly before its call's row has reached the database.
    """

    __tablename__ = "recording_keys"
    __table_args__ = (Index("ix_recording_keys_master_key_id", "master_key_id"),)

    recording_path: Mapped[str] = mapped_column(String(1024), primary_key=True)
    master_key_id: Mapped[str] = mapped_column(String(32))  # which master key wrapped it
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary())  # nonce, ciphertext, tag
    sealed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rewrapped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # by a rotation
