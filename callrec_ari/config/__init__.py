"""Configuration: one typed object built from ``config.toml`` at start-up and passed down.

``settings`` holds the typed settings, ``parse`` builds them from TOML (``load``), and
``table`` checks each value on the way in.
"""

from callrec_ari.config.parse import ENV_ARI_PASSWORD, ENV_DATABASE_URL, load, parse, read
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
    TrainingSettings,
    WebSettings,
)

__all__ = [
    "ENV_ARI_PASSWORD",
    "ENV_DATABASE_URL",
    "AriSettings",
    "AuditSettings",
    "ConsentSettings",
    "DatabaseSettings",
    "DeclineAction",
    "DialplanSettings",
    "DoNotRecordAction",
    "LifecycleSettings",
    "LogFormat",
    "LogSettings",
    "PasswordSettings",
    "PromptSettings",
    "RecordingSettings",
    "RetentionPolicy",
    "Route",
    "ServiceSettings",
    "Settings",
    "TrainingSettings",
    "WebSettings",
    "load",
    "parse",
    "read",
]
