"""A decoded TOML table that checks each value and names the full key when one is wrong."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from callrec_ari.errors import ConfigError
from callrec_ari.names import LANGUAGE

_T = TypeVar("_T")


class Table:
    """A TOML table that reports errors with the full key name."""

    def __init__(self, data: Mapping[str, Any], name: str) -> None:
        self._data = data
        self._name = name

    def key(self, key: str) -> str:
        """The full dotted name of ``key`` in this table, for error messages."""
        return f"{self._name}.{key}" if self._name else key

    def table(self, key: str, *, required: bool = True) -> Table:
        value = self._data.get(key)
        if value is None and not required:
            return Table({}, self.key(key))
        if not isinstance(value, Mapping):
            raise ConfigError(f"Config key [{self.key(key)}] must be a table.")
        return Table(value, self.key(key))

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

    def languages(self, key: str = "languages") -> tuple[str, ...]:
        """A non-empty list of language codes, in the order given."""
        languages = self._data.get(key)
        if not isinstance(languages, list) or not languages:
            raise ConfigError(f"Config key {self.key(key)} must be a non-empty list.")
        for language in languages:
            if not isinstance(language, str) or not LANGUAGE.fullmatch(language):
                raise ConfigError(
                    f"Config key {self.key(key)} has an invalid language {language!r}."
                )
        return tuple(languages)

    def policy(self, retention: Collection[str], key: str = "retention") -> str:
        """The name of a configured retention policy."""
        policy = self.get(key, str)
        if policy not in retention:
            raise ConfigError(
                f"Config key {self.key(key)} names an unknown retention policy {policy!r}."
            )
        return policy

    def items(self) -> list[tuple[str, Any]]:
        return list(self._data.items())

    def raw(self, key: str) -> Any:
        return self._data.get(key)
