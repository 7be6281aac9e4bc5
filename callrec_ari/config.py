"""Typed, frozen settings built once from a TOML file (secrets may come from the environment).

``load(path, env)`` is the only way in. Any missing or bad key raises ``ConfigError`` with one
sentence naming the key, so start-up stops before a single call is touched.
"""

from __future__ import annotations

import enum
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from callrec_ari.errors import ConfigError
from callrec_ari.numbers import valid_region

_T = TypeVar("_T")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
_SOUND_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CONTEXT = re.compile(r"^[A-Za-z0-9_-]{1,79}$")
_DTMF = frozenset("0123456789*#")

ENV_ARI_PASSWORD = "CALLREC_ARI_PASSWORD"  # noqa: S105 - the name of a variable, not a secret.
ENV_DATABASE_URL = "CALLREC_DATABASE_URL"


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
    sounds_dir: Path


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
    # How often the running service reloads the do-not-record list from the database.
    do_not_record_refresh_seconds: float = 10.0


@dataclass(frozen=True, kw_only=True)
class DialplanSettings:
    """The dialplan contexts the service hands calls back to."""

    record_context: str = "callrec-record"
    unrecorded_context: str = "callrec-unrecorded"


@dataclass(frozen=True, kw_only=True)
class RetentionPolicy:
    """How long recordings under this policy are kept."""

    name: str
    days: int


@dataclass(frozen=True, kw_only=True)
class LifecycleSettings:
    """Purging expired recordings and answering data-subject requests."""

    purge_interval_seconds: float = 3600.0  # 0 turns the service's own purge task off
    purge_batch_size: int = 500
    request_due_days: int = 30  # GDPR Art. 12(3): answer within one month...
    request_extension_days: int = 60  # ...extendable by two further months, with a reason


@dataclass(frozen=True, kw_only=True)
class Route:
    """What a caller to one dialled number hears and how the recording is kept."""

    languages: tuple[str, ...]
    prompt: str
    retention: str
    on_decline: DeclineAction


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """Where the service's own HTTP endpoint (``/healthz``) listens."""

    host: str = "127.0.0.1"
    port: int = 8089
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

    def route_for(self, did: str) -> Route:
        """The route of a dialled number; unknown numbers get the default route."""
        return self.routes.get(did, self.default_route)

    @property
    def longest_retention_days(self) -> int:
        """The longest policy: files older than this that no row knows about are removed."""
        return max(policy.days for policy in self.retention.values())


class _Table:
    """A TOML table that reports errors with the full key name."""

    def __init__(self, data: Mapping[str, Any], name: str) -> None:
        self._data = data
        self._name = name

    def key(self, key: str) -> str:
        return f"{self._name}.{key}" if self._name else key

    def table(self, key: str, *, required: bool = True) -> _Table:
        value = self._data.get(key)
        if value is None and not required:
            return _Table({}, self.key(key))
        if not isinstance(value, Mapping):
            raise ConfigError(f"Config key [{self.key(key)}] must be a table.")
        return _Table(value, self.key(key))

    def get(self, key: str, kind: type[_T], default: _T | None = None) -> _T:
        value = self._data.get(key, default)
        if value is None:
            raise ConfigError(f"Config key {self.key(key)} is missing.")
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"Config key {self.key(key)} must be a {kind.__name__}.")
        return value

    def positive(self, key: str, default: float) -> float:
        value = self.get(key, float, default)
        if value <= 0:
            raise ConfigError(f"Config key {self.key(key)} must be greater than zero.")
        return value

    def matching(self, key: str, pattern: re.Pattern[str], default: str | None = None) -> str:
        value = self.get(key, str, default)
        if not pattern.fullmatch(value):
            raise ConfigError(f"Config key {self.key(key)} has an invalid value {value!r}.")
        return value

    def choice(self, key: str, kind: type[enum.StrEnum], default: str) -> Any:
        value = self.get(key, str, default)
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(member.value for member in kind)
            raise ConfigError(
                f"Config key {self.key(key)} must be one of {allowed} (got {value!r})."
            ) from None

    def items(self) -> list[tuple[str, Any]]:
        return list(self._data.items())

    def raw(self, key: str) -> Any:
        return self._data.get(key)


def load(path: Path, env: Mapping[str, str]) -> Settings:
    """Read and validate the TOML config at ``path``; ``env`` may supply secrets."""
    return parse(read(path), env, base_dir=path.resolve().parent)


def read(path: Path) -> dict[str, Any]:
    """The decoded TOML of the config file at ``path``, not yet validated."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Config file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file {path} cannot be read: {exc}.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from None


def parse(data: Mapping[str, Any], env: Mapping[str, str], *, base_dir: Path) -> Settings:
    """Validate already-decoded TOML; relative paths are taken from ``base_dir``."""
    root = _Table(data, "")
    consent = _consent(root.table("consent", required=False))
    retention = _retention(root.table("retention"))
    default_route = _route(root.table("default_route"), consent, retention)
    return Settings(
        ari=_ari(root.table("ari"), env),
        recording=_recording(root.table("recording"), base_dir),
        database=_database(root.table("database"), env, base_dir),
        prompts=_prompts(root.table("prompts", required=False), base_dir),
        consent=consent,
        dialplan=DialplanSettings(
            record_context=root.table("dialplan", required=False).matching(
                "record_context", _CONTEXT, "callrec-record"
            ),
            unrecorded_context=root.table("dialplan", required=False).matching(
                "unrecorded_context", _CONTEXT, "callrec-unrecorded"
            ),
        ),
        retention=retention,
        lifecycle=_lifecycle(root.table("lifecycle", required=False)),
        numbers_region=_numbers_region(root.table("numbers", required=False)),
        default_route=default_route,
        routes=_routes(data.get("route", []), consent, retention),
        service=_service(root.table("service", required=False)),
        web=_web(root.table("web", required=False), base_dir),
        log=_log(root.table("log", required=False)),
    )


def _ari(table: _Table, env: Mapping[str, str]) -> AriSettings:
    url = table.get("url", str)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"Config key {table.key('url')} must start with http:// or https://.")
    password = env.get(ENV_ARI_PASSWORD) or table.get("password", str, "")
    if not password:
        raise ConfigError(
            f"Config key {table.key('password')} is missing (or set {ENV_ARI_PASSWORD})."
        )
    minimum = table.positive("reconnect_min_seconds", 0.2)
    maximum = table.positive("reconnect_max_seconds", 10.0)
    if maximum < minimum:
        raise ConfigError(
            f"Config key {table.key('reconnect_max_seconds')} must not be below "
            "reconnect_min_seconds."
        )
    return AriSettings(
        url=url.rstrip("/"),
        username=table.get("username", str),
        password=password,
        app=table.matching("app", _CONTEXT, "callrec"),
        heartbeat_seconds=table.positive("heartbeat_seconds", 5.0),
        request_timeout_seconds=table.positive("request_timeout_seconds", 5.0),
        reconnect_min_seconds=minimum,
        reconnect_max_seconds=maximum,
    )


def _recording(table: _Table, base_dir: Path) -> RecordingSettings:
    asterisk_dir = PurePosixPath(table.get("asterisk_dir", str))
    if not asterisk_dir.is_absolute():
        raise ConfigError(f"Config key {table.key('asterisk_dir')} must be an absolute path.")
    return RecordingSettings(
        asterisk_dir=asterisk_dir,
        service_dir=base_dir / table.get("service_dir", str),
        finalise_timeout_seconds=table.positive("finalise_timeout_seconds", 30.0),
    )


def _database(table: _Table, env: Mapping[str, str], base_dir: Path) -> DatabaseSettings:
    url = env.get(ENV_DATABASE_URL) or table.get("url", str)
    sqlite_prefix = "sqlite+aiosqlite:///"
    if url.startswith(sqlite_prefix):
        file_part = url.removeprefix(sqlite_prefix)
        if file_part and not file_part.startswith("/") and file_part != ":memory:":
            url = sqlite_prefix + str((base_dir / file_part).resolve())
    elif not url.startswith("postgresql+asyncpg://"):
        raise ConfigError(
            f"Config key {table.key('url')} must start with sqlite+aiosqlite:/// "
            "or postgresql+asyncpg://."
        )
    minimum = table.positive("retry_min_seconds", 0.5)
    maximum = table.positive("retry_max_seconds", 30.0)
    if maximum < minimum:
        raise ConfigError(
            f"Config key {table.key('retry_max_seconds')} must not be below retry_min_seconds."
        )
    return DatabaseSettings(
        url=url,
        journal_dir=base_dir / table.get("journal_dir", str, "var/journal"),
        retry_min_seconds=minimum,
        retry_max_seconds=maximum,
    )


def _prompts(table: _Table, base_dir: Path) -> PromptSettings:
    return PromptSettings(
        source_dir=base_dir / table.get("source_dir", str, "prompts"),
        sounds_dir=base_dir / table.get("sounds_dir", str, "/usr/share/asterisk/sounds"),
    )


def _consent(table: _Table) -> ConsentSettings:
    key = table.get("decline_key", str, "")
    if key and key not in _DTMF:
        raise ConfigError(
            f"Config key {table.key('decline_key')} must be one DTMF key 0-9, * or #, "
            f"or empty (got {key!r})."
        )
    return ConsentSettings(
        decline_key=key or None,
        on_decline=table.choice("on_decline", DeclineAction, "connect"),
        decline_prompt=table.matching("decline_prompt", _SOUND_NAME, "declined"),
        do_not_record=table.choice("do_not_record", DoNotRecordAction, "notice"),
        not_recorded_prompt=table.matching("not_recorded_prompt", _SOUND_NAME, "not-recorded"),
        do_not_record_refresh_seconds=table.positive("do_not_record_refresh_seconds", 10.0),
    )


def _lifecycle(table: _Table) -> LifecycleSettings:
    interval = table.get("purge_interval_seconds", float, 3600.0)
    if interval < 0:
        raise ConfigError(
            f"Config key {table.key('purge_interval_seconds')} must be zero (off) or more."
        )
    counts = {}
    for key, default in (
        ("purge_batch_size", 500),
        ("request_due_days", 30),
        ("request_extension_days", 60),
    ):
        value = table.get(key, int, default)
        if value < 1:
            raise ConfigError(f"Config key {table.key(key)} must be at least 1.")
        counts[key] = value
    return LifecycleSettings(purge_interval_seconds=interval, **counts)


def _numbers_region(table: _Table) -> str:
    region = table.get("default_region", str, "PL")
    if not valid_region(region):
        raise ConfigError(
            f"Config key {table.key('default_region')} must be a region code such as PL, SE "
            f"or FI (got {region!r})."
        )
    return region


def _retention(table: _Table) -> dict[str, RetentionPolicy]:
    policies = table.table("policies")
    result: dict[str, RetentionPolicy] = {}
    for name, _ in policies.items():
        days = policies.table(name).get("days", int)
        if days < 1:
            raise ConfigError(f"Config key {policies.key(name)}.days must be at least 1.")
        result[name] = RetentionPolicy(name=name, days=days)
    if not result:
        raise ConfigError("Config table [retention.policies] must name at least one policy.")
    return result


def _route(
    table: _Table, consent: ConsentSettings, retention: Mapping[str, RetentionPolicy]
) -> Route:
    languages = table.raw("languages")
    if not isinstance(languages, list) or not languages:
        raise ConfigError(f"Config key {table.key('languages')} must be a non-empty list.")
    for language in languages:
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            raise ConfigError(
                f"Config key {table.key('languages')} has an invalid language {language!r}."
            )
    policy = table.get("retention", str)
    if policy not in retention:
        raise ConfigError(
            f"Config key {table.key('retention')} names an unknown retention policy {policy!r}."
        )
    return Route(
        languages=tuple(languages),
        prompt=table.matching("prompt", _SOUND_NAME, "announcement"),
        retention=policy,
        on_decline=table.choice("on_decline", DeclineAction, consent.on_decline.value),
    )


def _routes(
    raw: Any, consent: ConsentSettings, retention: Mapping[str, RetentionPolicy]
) -> dict[str, Route]:
    if not isinstance(raw, list):
        raise ConfigError("Config key route must be an array of tables ([[route]]).")
    routes: dict[str, Route] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError(f"Config key route[{index}] must be a table.")
        table = _Table(item, f"route[{index}]")
        dids = table.raw("dids")
        if not isinstance(dids, list) or not dids or not all(isinstance(d, str) for d in dids):
            raise ConfigError(f"Config key {table.key('dids')} must be a non-empty list of text.")
        route = _route(table, consent, retention)
        for did in dids:
            if did in routes:
                raise ConfigError(f"Config key {table.key('dids')} repeats the number {did!r}.")
            routes[did] = route
    return routes


def _service(table: _Table) -> ServiceSettings:
    port = table.get("port", int, 8089)
    if not 0 <= port <= 65535:
        raise ConfigError(f"Config key {table.key('port')} must be a TCP port (0-65535).")
    return ServiceSettings(
        host=table.get("host", str, "127.0.0.1"),
        port=port,
        settings_refresh_seconds=table.positive("settings_refresh_seconds", 10.0),
    )


def _web(table: _Table, base_dir: Path) -> WebSettings:
    port = table.get("port", int, 8443)
    if not 0 <= port <= 65535:
        raise ConfigError(f"Config key {table.key('port')} must be a TCP port (0-65535).")
    certificate, key_file = (
        None if table.raw(key) is None else base_dir / table.get(key, str)
        for key in ("tls_certificate", "tls_key")
    )
    if (certificate is None) != (key_file is None):
        raise ConfigError(
            f"Config keys {table.key('tls_certificate')} and {table.key('tls_key')} go together."
        )
    counts = {}
    for key, default in (
        ("session_idle_minutes", 15),
        ("session_max_hours", 10),
        ("lockout_after", 5),
        ("lockout_minutes", 15),
        ("reason_min_length", 10),
        ("release_valid_hours", 72),
        ("page_size", 50),
    ):
        value = table.get(key, int, default)
        if value < 1:
            raise ConfigError(f"Config key {table.key(key)} must be at least 1.")
        counts[key] = value
    return WebSettings(
        host=table.get("host", str, "127.0.0.1"),
        port=port,
        secret_key_file=base_dir / table.get("secret_key_file", str, "var/web-secret.key"),
        language=table.matching("language", _LANGUAGE, "en"),
        tls_certificate=certificate,
        tls_key=key_file,
        **counts,
    )


def _log(table: _Table) -> LogSettings:
    level = table.get("level", str, "info").lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(f"Config key {table.key('level')} must be debug, info, warning or error.")
    return LogSettings(
        format=table.choice("format", LogFormat, "auto"),
        level=level,
        show_numbers=table.get("show_numbers", bool, False),
    )
