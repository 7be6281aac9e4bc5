"""structlog set-up: configured once by the entry point; phone numbers masked unless asked not to.

Every log line of a call carries its ``call_id`` because the controller binds it in the call's
own task (``structlog.contextvars``), and ``merge_contextvars`` runs first in the pipeline.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import orjson
import structlog

from callrec_ari.config import LogFormat, LogSettings

NUMBER_KEYS = frozenset({"caller", "caller_number", "number"})  # callers, not our own DIDs
_VISIBLE_DIGITS = 3


def mask_number(value: str) -> str:
    """Keep only the last three characters of a phone number: enough to tell calls apart."""
    if len(value) <= _VISIBLE_DIGITS:
        return "*" * len(value)
    return "*" * (len(value) - _VISIBLE_DIGITS) + value[-_VISIBLE_DIGITS:]


def mask_numbers(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask the values of keys that hold phone numbers."""
    for key in NUMBER_KEYS & event_dict.keys():
        value = event_dict[key]
        if isinstance(value, str):
            event_dict[key] = mask_number(value)
    return event_dict


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was configured:
    loggers are cached, and a replaced stream (a test's capture) may be closed later."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def _dumps(event: Any, **kwargs: Any) -> str:
    # orjson: a log line costs a fraction of what the standard json module makes it cost, and
    # the service writes a few per call. Values it cannot encode fall back to repr().
    return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


def configure(settings: LogSettings) -> None:
    """Configure structlog (and stdlib logging of libraries) for the whole process."""
    level = logging.getLevelNamesMapping()[settings.level.upper()]
    json_output = settings.format == LogFormat.JSON or (
        settings.format == LogFormat.AUTO and not sys.stderr.isatty()
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if not settings.show_numbers:
        processors.append(mask_numbers)
    if json_output:
        # The console renderer prints tracebacks itself; JSON needs them as a string field.
        processors += [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=_dumps),
        ]
    else:
        processors.append(structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty()))
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=cast(TextIO, _CurrentStderr())),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr, format="%(message)s")
