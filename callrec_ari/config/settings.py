"""The typed, frozen settings the whole service is configured by.

Built once at start-up by ``callrec_ari.config.parse`` and passed down; nothing here reads a
file or the environment.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from callrec_ari.config.encryption import EncryptionSettings
from callrec_ari.config.ha import HaSettings
from callrec_ari.config.outbound import OutboundSettings
from callrec_ari.config.overload import OverloadLimits
from callrec_ari.config.storage import StorageSettings
from callrec_ari.profile.model import PLACEHOLDER_PROFILE, Processing, Profile


class DeclineAction(enum.StrEnum):
    """What happens when a caller presses the decline key."""

    CONNECT = "connect"  # connect the call without recording
    HANGUP = "hangup"  # play the decline prompt, then hang up (seed 000 §4.3)


class DoNotRecordAction(enum.StrEnum):
    """What a caller whose number is on the do-not-record list hears."""

    NOTICE = "notice"  # a short prompt saying the call is not recorded, then connected
    SILENT = "silent"  # connected at once, no prompt


class LogFormat(enum.StrEnum):
    """How log lines are rendered."""

    AUTO = "auto"  # key-value on a terminal, JSON otherwise
    JSON = "json"
    CONSOLE = "console"


@dataclass(frozen=True, kw_only=True)
class AriSettings:
    """How to reach the Asterisk REST interface."""

    url: str
    username: str
    password: str = field(repr=False)
    app: str
    heartbeat_seconds: float = 5.0
    request_timeout_seconds: float = 5.0
    reconnect_min_seconds: float = 0.2
    reconnect_max_seconds: float = 10.0
    # REST requests on the event WebSocket when Asterisk answers them there (ari/ws_rest.py).
    rest_over_websocket: bool = True


@dataclass(frozen=True, kw_only=True)
class RecordingSettings:
    """Where recordings go: the same folder as Asterisk and as the service see it."""

    asterisk_dir: PurePosixPath
    service_dir: Path
    finalise_timeout_seconds: float = 30.0


@dataclass(frozen=True, kw_only=True)
class PromptSettings:
    """Where prompt sources are kept and where Asterisk looks for sounds."""

    source_dir: Path
    sounds_dir: Path  # Asterisk's sounds folder as this service sees it
    # Asterisk's root folder as this service sees it: absolute symbolic links in sounds_dir
    # (Debian's en -> /etc/alternatives/...) are read inside it. "/" unless Asterisk runs in
    # a chroot or container whose files this machine sees under another folder.
    asterisk_root: Path = Path("/")


@dataclass(frozen=True, kw_only=True)
class DatabaseSettings:
    """The SQL database holding call metadata."""

    url: str = field(repr=False)
    # The local journal every call snapshot is written to before the database sees it.
    journal_dir: Path
    retry_min_seconds: float = 0.5  # backoff between attempts while the database is down
    retry_max_seconds: float = 30.0


@dataclass(frozen=True, kw_only=True)
class ConsentSettings:
    """The consent step's options shared by every route."""

    decline_key: str | None
    on_decline: DeclineAction
    decline_prompt: str
    do_not_record: DoNotRecordAction = DoNotRecordAction.NOTICE
    not_recorded_prompt: str = "not-recorded"
    # What an agent who takes a call over hears, alone, on routes with agent_tone (a beep).
    agent_tone_prompt: str = "agent-tone"
    # How often the running service reloads the do-not-record list from the database.
    do_not_record_refresh_seconds: float = 10.0


@dataclass(frozen=True, kw_only=True)
class DialplanSettings:
    """The dialplan contexts the service hands calls back to, and the register of calls the
    dialplan connected while the service was unavailable."""

    # CALLREC_REGISTER in the dialplan's [globals], as this service sees it.
    register_file: Path
    record_context: str = "callrec-record"
    unrecorded_context: str = "callrec-unrecorded"
    register_import_seconds: float = 30.0  # also at start and on every ARI (re)connection
    # Follow each agent's channel (one ARI subscription per agent): exact leave times and an
    # attended transfer's target. Off: agents a Dial or Queue connects are still listed, each
    # until the call ends, and an attended transfer's target is missed.
    follow_agents: bool = True


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """How long recordings under this policy are kept: a number of days or of calendar months
    (exactly one of the two)."""

    name: str
    days: int | None = None
    months: int | None = None

    def __post_init__(self) -> None:
        if (self.days is None) == (self.months is None):
            raise ValueError(f"Retention policy {self.name!r} needs days or months, not both.")

    @property
    def longest_days(self) -> int:
        """The most days a recording under this policy can be kept (a month counts as 31)."""
        return self.days if self.days is not None else 31 * (self.months or 0)


@dataclass(frozen=True, kw_only=True)
class LifecycleSettings:
    """Purging expired recordings and answering data-subject requests."""

    purge_interval_seconds: float = 3600.0  # 0 turns the service's own purge task off
    purge_batch_size: int = 500
    request_due_days: int = 30  # GDPR Art. 12(3): answer within one month...
    request_extension_days: int = 60  # ...extendable by two further months, with a reason


@dataclass(frozen=True, kw_only=True)
class TrainingSettings:
    """The library of anonymised training copies (seed 003 §9): its folder and how long a
    copy is kept, in calendar months counted from the end of the month it was made."""

    dir: Path  # default: "training" inside [recording] service_dir
    months: int = 24


@dataclass(frozen=True, kw_only=True)
class Route:
    """What a caller to one dialled number hears and how the recording is kept."""

    languages: tuple[str, ...]
    prompt: str
    retention: str
    on_decline: DeclineAction
    processing: Processing | None = None  # None: the profile's default processing
    # An agent who takes the call over (a transfer) hears [consent] agent_tone_prompt first.
    agent_tone: bool = True


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """Where the service's own HTTP endpoints (``/healthz``, ``/metrics``) listen."""

    host: str = "127.0.0.1"
    port: int = 8089
    # Which PBX node this service records for, stamped on every row it writes (several
    # Asterisk nodes may share one database and one store); None: not named.
    node: str | None = None
    # How often the running service reads the routes and policies the admin changed.
    settings_refresh_seconds: float = 10.0


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """The staff web app: where it listens, how it signs people in, what it asks of them."""

    host: str = "127.0.0.1"
    port: int = 8443
    tls_certificate: Path | None = None  # with tls_key: HTTPS; without, plain HTTP
    tls_key: Path | None = None
    secret_key_file: Path  # the session cookies' key, made (mode 0600) at first start
    language: str = "en"  # for people who have not chosen one
    session_idle_minutes: int = 15
    session_max_hours: int = 10
    lockout_after: int = 5  # failed sign-ins in a row
    lockout_minutes: int = 15
    reason_min_length: int = 10  # characters of the stated reason to listen
    release_valid_hours: int = 72  # an approved release's download link
    page_size: int = 50
    signin_burst: int = 10  # sign-in attempts one client address may make at once...
    signin_per_minute: int = 10  # ...and then this many a minute


@dataclass(frozen=True, kw_only=True)
class PasswordSettings:
    """The argon2id cost of staff password hashes. The defaults are argon2-cffi's (RFC 9106,
    low-memory profile); lower them only where the hashes protect nothing, as in tests."""

    time_cost: int = 3  # passes over the memory
    memory_kib: int = 65536  # 64 MiB per hash
    parallelism: int = 4  # lanes


@dataclass(frozen=True, kw_only=True)
class AuditSettings:
    """The witness of the audit trail's head, kept outside the database."""

    # The HMAC key that signs witness records, made (mode 0600) at first use; never stored
    # in the database, so whoever can rewrite the database cannot forge a witness.
    witness_key_file: Path
    witness_file: Path  # JSON lines, appended to: seq, hash, time, HMAC
    witness_interval_seconds: float = 60.0  # 0 turns the service's own witnessing off


@dataclass(frozen=True, kw_only=True)
class LogSettings:
    """Log rendering and privacy."""

    format: LogFormat = LogFormat.AUTO
    level: str = "info"
    show_numbers: bool = False


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the service needs, built once at start-up and passed down."""

    ari: AriSettings
    recording: RecordingSettings
    database: DatabaseSettings
    prompts: PromptSettings
    consent: ConsentSettings
    dialplan: DialplanSettings
    retention: Mapping[str, RetentionPolicy]
    lifecycle: LifecycleSettings
    numbers_region: str  # how national numbers are read, e.g. "PL"
    default_route: Route
    routes: Mapping[str, Route]
    service: ServiceSettings
    web: WebSettings
    log: LogSettings
    passwords: PasswordSettings = PasswordSettings()
    audit: AuditSettings
    training: TrainingSettings
    profile: Profile = PLACEHOLDER_PROFILE
    # Off by default: calls placed by staff are never recorded (seed 000 §4.5).
    outbound: OutboundSettings = field(default_factory=OutboundSettings)
    # Off by default: one instance; [ha] peers names the others sharing this Asterisk.
    ha: HaSettings = field(default_factory=HaSettings)
    overload: OverloadLimits = field(default_factory=OverloadLimits)
    # Off by default (plain WAVs, as before); the example config turns it on.
    encryption: EncryptionSettings = field(default_factory=EncryptionSettings)
    # Off by default: finished recordings stay in the recordings folder ([storage] kind).
    storage: StorageSettings = field(default_factory=StorageSettings)

    def route_for(self, did: str) -> Route:
        """The route of a dialled number; unknown numbers get the default route."""
        return self.routes.get(did, self.default_route)

    @property
    def longest_retention_days(self) -> int:
        """The longest policy: files older than this that no row knows about are removed."""
        return max(policy.longest_days for policy in self.retention.values())

    def processing_for(self, route: Route) -> Processing:
        """What is done with the recordings of ``route``: its own processing, else the
        profile's."""
        return route.processing or self.profile.processing
