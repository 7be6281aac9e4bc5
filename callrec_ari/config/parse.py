"""Settings built from a TOML file (secrets may come from the environment).

``load(path, env)`` is the only way in. Any missing or bad key raises ``ConfigError`` with one
sentence naming the key, so start-up stops before a single call is touched.
"""

from __future__ import annotations

import re
import socket
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from callrec_ari.config.encryption import parse_encryption
from callrec_ari.config.ha import parse_ha
from callrec_ari.config.outbound import parse_outbound
from callrec_ari.config.overload import parse_overload
from callrec_ari.config.profile import profile as _profile
from callrec_ari.config.profile import route_processing
from callrec_ari.config.settings import (
    AriSettings,
    AuditSettings,
    ConsentSettings,
    DatabaseSettings,
    DeclineAction,
    DialplanSettings,
    DoNotRecordAction,
    LifecycleSettings,
    LogFormat,
    LogSettings,
    PasswordSettings,
    PromptSettings,
    RecordingSettings,
    RetentionPolicy,
    Route,
    ServiceSettings,
    Settings,
    WebSettings,
)
from callrec_ari.config.storage import OUTBOX_DIR, StorageKind, parse_storage
from callrec_ari.config.table import Table
from callrec_ari.config.training import parse_training
from callrec_ari.errors import ConfigError
from callrec_ari.names import LANGUAGE, NODE, SOUND_NAME
from callrec_ari.numbers import valid_region
from callrec_ari.profile.model import Processing

_CONTEXT = re.compile(r"[A-Za-z0-9_-]{1,79}")
_DTMF = frozenset("0123456789*#")

ENV_ARI_PASSWORD = "CALLREC_ARI_PASSWORD"  # noqa: S105 - the name of a variable, not a secret.
ENV_DATABASE_URL = "CALLREC_DATABASE_URL"
REGISTER_FILE = "unrecorded-calls.log"  # the register's name in the recordings folder


# Every key holding a file or folder, with its default: relative values are taken from the
# config file's folder, so a config written elsewhere must carry them absolute.
_PATH_KEYS: dict[tuple[str, str], str | None] = {
    ("recording", "service_dir"): None,
    ("database", "journal_dir"): "var/journal",
    ("prompts", "source_dir"): "prompts",
    ("prompts", "sounds_dir"): "/usr/share/asterisk/sounds",
    ("prompts", "asterisk_root"): "/",
    ("dialplan", "register_file"): None,
    ("web", "tls_certificate"): None,
    ("web", "tls_key"): None,
    ("web", "secret_key_file"): "var/web-secret.key",
    ("audit", "witness_key_file"): "var/audit-witness.key",
    ("audit", "witness_file"): "var/audit-witness.jsonl",
    ("training", "dir"): None,
    ("encryption", "key_file"): None,
    ("storage", "dir"): None,
    ("storage", "outbox_dir"): OUTBOX_DIR,
}
_SQLITE = "sqlite+aiosqlite:///"


def with_absolute_paths(data: Mapping[str, Any], base_dir: Path) -> dict[str, Any]:
    """Decoded TOML with every relative path (and SQLite file) made absolute from
    ``base_dir``: the same settings wherever the result is written."""
    config = {
        key: dict(value) if isinstance(value, Mapping) else value for key, value in data.items()
    }
    for (table, key), default in _PATH_KEYS.items():
        section = config.get(table)
        if section is None and default is None:
            continue
        if not isinstance(section, dict):
            section = config.setdefault(table, {})
            if not isinstance(section, dict):
                continue  # parse() names the malformed table
        value = section.get(key, default)
        if isinstance(value, str):
            section[key] = str(base_dir / value)
    database = config.get("database")
    if isinstance(database, dict) and isinstance(database.get("url"), str):
        url: str = database["url"]
        file_part = url.removeprefix(_SQLITE)
        if url.startswith(_SQLITE) and file_part and file_part != ":memory:":
            database["url"] = _SQLITE + str(base_dir / file_part)
    return config


def load(path: Path, env: Mapping[str, str]) -> Settings:
    """Read and validate the TOML config at ``path``; ``env`` may supply secrets, and this
    machine's name is the node's unless ``[service] node`` names it."""
    return parse(read(path), env, base_dir=path.resolve().parent, host_name=socket.gethostname())


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


def parse(
    data: Mapping[str, Any],
    env: Mapping[str, str],
    *,
    base_dir: Path,
    host_name: str | None = None,
) -> Settings:
    """Validate already-decoded TOML; relative paths are taken from ``base_dir``."""
    root = Table(data, "")
    consent = _consent(root.table("consent", required=False))
    retention = _retention(root.table("retention"))
    default_route = _route(root.table("default_route"), consent, retention)
    profile = _profile(root.table("profile", required=False), present="profile" in data)
    recording = _recording(root.table("recording"), base_dir)
    ari = _ari(root.table("ari"), env)
    routes = _routes(data.get("route", []), consent, retention, profile.processing)
    # Where the privacy notice says recordings are kept: [storage] location must agree.
    notice_countries = {
        route_processing.storage_country
        for route_processing in (profile.processing, *(r.processing for r in routes.values()))
        if route_processing is not None and route_processing.storage_country
    }
    encryption = parse_encryption(root.table("encryption", required=False), env, base_dir)
    storage = parse_storage(root.table("storage", required=False), env, base_dir, notice_countries)
    if storage.kind is StorageKind.S3 and not encryption.enabled:
        # Plain WAVs never leave the machine: only sealed files are uploaded.
        raise ConfigError(
            'Config key storage.kind = "s3" needs [encryption] enabled = true: only encrypted '
            "recordings leave this machine."
        )
    return Settings(
        ari=ari,
        recording=recording,
        database=_database(root.table("database"), env, base_dir),
        prompts=_prompts(root.table("prompts", required=False), base_dir),
        consent=consent,
        dialplan=_dialplan(root.table("dialplan", required=False), recording, base_dir),
        retention=retention,
        lifecycle=_lifecycle(root.table("lifecycle", required=False)),
        numbers_region=_numbers_region(root.table("numbers", required=False)),
        default_route=default_route,
        routes=routes,
        service=_service(root.table("service", required=False), host_name),
        web=_web(root.table("web", required=False), base_dir),
        log=_log(root.table("log", required=False)),
        passwords=_passwords(root.table("passwords", required=False)),
        audit=_audit(root.table("audit", required=False), base_dir),
        training=parse_training(root.table("training", required=False), recording, base_dir),
        profile=profile,
        outbound=parse_outbound(
            root.table("outbound", required=False),
            data.get("outbound_route"),
            retention,
            decline_key=consent.decline_key,
        ),
        ha=parse_ha(root.table("ha", required=False), app=ari.app),
        overload=parse_overload(root.table("overload", required=False)),
        encryption=encryption,
        storage=storage,
    )


def _ari(table: Table, env: Mapping[str, str]) -> AriSettings:
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
        rest_over_websocket=table.get("rest_over_websocket", bool, True),
    )


def _recording(table: Table, base_dir: Path) -> RecordingSettings:
    asterisk_dir = PurePosixPath(table.get("asterisk_dir", str))
    if not asterisk_dir.is_absolute():
        raise ConfigError(f"Config key {table.key('asterisk_dir')} must be an absolute path.")
    return RecordingSettings(
        asterisk_dir=asterisk_dir,
        service_dir=base_dir / table.get("service_dir", str),
        finalise_timeout_seconds=table.positive("finalise_timeout_seconds", 30.0),
    )


def _dialplan(table: Table, recording: RecordingSettings, base_dir: Path) -> DialplanSettings:
    register = table.get("register_file", str, "")
    return DialplanSettings(
        # Beside the recordings by default: Asterisk and the service may both write there.
        register_file=base_dir / register if register else recording.service_dir / REGISTER_FILE,
        record_context=table.matching("record_context", _CONTEXT, "callrec-record"),
        unrecorded_context=table.matching("unrecorded_context", _CONTEXT, "callrec-unrecorded"),
        register_import_seconds=table.positive("register_import_seconds", 30.0),
        follow_agents=table.get("follow_agents", bool, True),
    )


def _database(table: Table, env: Mapping[str, str], base_dir: Path) -> DatabaseSettings:
    url = env.get(ENV_DATABASE_URL) or table.get("url", str)
    if url.startswith(_SQLITE):
        file_part = url.removeprefix(_SQLITE)
        if file_part and not file_part.startswith("/") and file_part != ":memory:":
            url = _SQLITE + str((base_dir / file_part).resolve())
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


def _prompts(table: Table, base_dir: Path) -> PromptSettings:
    return PromptSettings(
        source_dir=base_dir / table.get("source_dir", str, "prompts"),
        sounds_dir=base_dir / table.get("sounds_dir", str, "/usr/share/asterisk/sounds"),
        asterisk_root=base_dir / table.get("asterisk_root", str, "/"),
    )


def _consent(table: Table) -> ConsentSettings:
    key = table.get("decline_key", str, "")
    if key and key not in _DTMF:
        raise ConfigError(
            f"Config key {table.key('decline_key')} must be one DTMF key 0-9, * or #, "
            f"or empty (got {key!r})."
        )
    return ConsentSettings(
        decline_key=key or None,
        on_decline=table.choice("on_decline", DeclineAction, "connect"),
        decline_prompt=table.matching("decline_prompt", SOUND_NAME, "declined"),
        do_not_record=table.choice("do_not_record", DoNotRecordAction, "notice"),
        not_recorded_prompt=table.matching("not_recorded_prompt", SOUND_NAME, "not-recorded"),
        do_not_record_refresh_seconds=table.positive("do_not_record_refresh_seconds", 10.0),
        agent_tone_prompt=table.matching("agent_tone_prompt", SOUND_NAME, "agent-tone"),
    )


def _lifecycle(table: Table) -> LifecycleSettings:
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


def _numbers_region(table: Table) -> str:
    region = table.get("default_region", str, "PL")
    if not valid_region(region):
        raise ConfigError(
            f"Config key {table.key('default_region')} must be a region code such as PL, SE "
            f"or FI (got {region!r})."
        )
    return region


def _retention(table: Table) -> dict[str, RetentionPolicy]:
    policies = table.table("policies")
    result: dict[str, RetentionPolicy] = {}
    for name, _ in policies.items():
        policy = policies.table(name)
        if (policy.raw("days") is None) == (policy.raw("months") is None):
            raise ConfigError(f"Config table [{policies.key(name)}] needs days or months (one).")
        unit = "days" if policy.raw("days") is not None else "months"
        count = policy.get(unit, int)
        if count < 1:
            raise ConfigError(f"Config key {policy.key(unit)} must be at least 1.")
        result[name] = RetentionPolicy(name=name, **{unit: count})
    if not result:
        raise ConfigError("Config table [retention.policies] must name at least one policy.")
    return result


def _route(
    table: Table,
    consent: ConsentSettings,
    retention: Mapping[str, RetentionPolicy],
    processing: Processing | None = None,
) -> Route:
    languages = table.languages()
    policy = table.policy(retention)
    return Route(
        languages=languages,
        prompt=table.matching("prompt", SOUND_NAME, "announcement"),
        retention=policy,
        on_decline=table.choice("on_decline", DeclineAction, consent.on_decline.value),
        # Only a [[route]] has its own processing; the default route's is the profile's.
        processing=route_processing(table, processing),
        agent_tone=table.get("agent_tone", bool, True),
    )


def _routes(
    raw: Any,
    consent: ConsentSettings,
    retention: Mapping[str, RetentionPolicy],
    processing: Processing,
) -> dict[str, Route]:
    if not isinstance(raw, list):
        raise ConfigError("Config key route must be an array of tables ([[route]]).")
    routes: dict[str, Route] = {}
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ConfigError(f"Config key route[{index}] must be a table.")
        table = Table(item, f"route[{index}]")
        dids = table.raw("dids")
        if not isinstance(dids, list) or not dids or not all(isinstance(d, str) for d in dids):
            raise ConfigError(f"Config key {table.key('dids')} must be a non-empty list of text.")
        route = _route(table, consent, retention, processing)
        for did in dids:
            if did in routes:
                raise ConfigError(f"Config key {table.key('dids')} repeats the number {did!r}.")
            routes[did] = route
    return routes


def _service(table: Table, host_name: str | None) -> ServiceSettings:
    port = table.get("port", int, 8089)
    if not 0 <= port <= 65535:
        raise ConfigError(f"Config key {table.key('port')} must be a TCP port (0-65535).")
    node = table.get("node", str, "") or None
    if node is not None and not NODE.fullmatch(node):
        raise ConfigError(
            f"Config key {table.key('node')} must be a node name: letters, digits, '.', '_' "
            "and '-', up to 64 characters."
        )
    if node is None and host_name:
        # The machine's short name: in a container, set [service] node (its host name is
        # the container's id).
        short = host_name.split(".", 1)[0][:64]
        node = short if NODE.fullmatch(short) else None
    return ServiceSettings(
        host=table.get("host", str, "127.0.0.1"),
        port=port,
        node=node,
        settings_refresh_seconds=table.positive("settings_refresh_seconds", 10.0),
    )


def _web(table: Table, base_dir: Path) -> WebSettings:
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
        ("signin_burst", 10),
        ("signin_per_minute", 10),
    ):
        value = table.get(key, int, default)
        if value < 1:
            raise ConfigError(f"Config key {table.key(key)} must be at least 1.")
        counts[key] = value
    return WebSettings(
        host=table.get("host", str, "127.0.0.1"),
        port=port,
        secret_key_file=base_dir / table.get("secret_key_file", str, "var/web-secret.key"),
        language=table.matching("language", LANGUAGE, "en"),
        tls_certificate=certificate,
        tls_key=key_file,
        **counts,
    )


def _passwords(table: Table) -> PasswordSettings:
    default = PasswordSettings()
    values = {}
    for key in ("time_cost", "memory_kib", "parallelism"):
        value = table.get(key, int, getattr(default, key))
        if value < 1:
            raise ConfigError(f"Config key {table.key(key)} must be at least 1.")
        values[key] = value
    if values["memory_kib"] < 8 * values["parallelism"]:
        raise ConfigError(
            f"Config key {table.key('memory_kib')} must be at least 8 KiB per lane "
            f"({8 * values['parallelism']} for parallelism {values['parallelism']})."
        )
    return PasswordSettings(**values)


def _audit(table: Table, base_dir: Path) -> AuditSettings:
    interval = table.get("witness_interval_seconds", float, 60.0)
    if interval < 0:
        raise ConfigError(
            f"Config key {table.key('witness_interval_seconds')} must be zero (off) or more."
        )
    key_file = base_dir / table.get("witness_key_file", str, "var/audit-witness.key")
    witness_file = base_dir / table.get("witness_file", str, "var/audit-witness.jsonl")
    if key_file.resolve() == witness_file.resolve():
        raise ConfigError(
            f"Config keys {table.key('witness_key_file')} and {table.key('witness_file')} "
            "must name two different files."
        )
    return AuditSettings(
        witness_key_file=key_file,
        witness_file=witness_file,
        witness_interval_seconds=interval,
    )


def _log(table: Table) -> LogSettings:
    level = table.get("level", str, "info").lower()
    if level not in {"debug", "info", "warning", "error"}:
        raise ConfigError(f"Config key {table.key('level')} must be debug, info, warning or error.")
    return LogSettings(
        format=table.choice("format", LogFormat, "auto"),
        level=level,
        show_numbers=table.get("show_numbers", bool, False),
    )
