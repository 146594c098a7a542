"""Outbound feedback to the upstream platforms (外网反馈): config/data/upstream.toml, loaded and validated.

One table per transfer channel: where its events are POSTed, the NAME of the environment variable holding the auth
header's value (never the secret itself), which events go back, and the delivery limits (attempts, backoff,
timeout), each defaulting to the file's `[delivery]` table. HOTLINE_UPSTREAM_CONFIG names another file.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.reference import DATA_DIR, ConfigError

EVENTS = ("signed", "extension_approved", "replied", "returned_upstream", "closed")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")
_DELIVERY_DEFAULTS: dict[str, float] = {
    "max_attempts": 8,
    "backoff_base_seconds": 10.0,
    "backoff_cap_seconds": 3600.0,
    "timeout_seconds": 10.0,
}


@dataclass(frozen=True)
class Upstream:
    channel: str
    url: str
    events: frozenset[str]
    auth_env: str | None = None
    auth_header: str = "Authorization"
    enabled: bool = True
    max_attempts: int = 8
    backoff_base_seconds: float = 10.0
    backoff_cap_seconds: float = 3600.0
    timeout_seconds: float = 10.0

    def auth(self, env: dict[str, str] | None = None) -> dict[str, str] | str:
        """The auth header, read from the environment at delivery time; a string saying what is missing if unset."""
        if self.auth_env is None:
            return {}
        value = (os.environ if env is None else env).get(self.auth_env, "")
        if not value:
            return f"the environment variable {self.auth_env} (auth header of channel {self.channel}) is not set"
        return {self.auth_header: value}

    @property
    def lease_seconds(self) -> float:
        """How long a claimed delivery is held: the whole POST is bounded by the timeout, plus a margin."""
        return self.timeout_seconds + 5.0


@dataclass(frozen=True)
class UpstreamConfig:
    channels: dict[str, Upstream]

    def sends(self, channel: str, event: str) -> bool:
        up = self.channels.get(channel)
        return up is not None and up.enabled and event in up.events


def parse_upstream(data: dict[str, Any], *, source: str = "upstream.toml") -> UpstreamConfig:
    defaults = dict(_DELIVERY_DEFAULTS)
    delivery = data.get("delivery", {})
    if not isinstance(delivery, dict):
        raise ConfigError(f"{source}: [delivery] must be a table")
    for key, value in delivery.items():
        if key not in defaults:
            raise ConfigError(f"{source}: [delivery]: unknown key {key!r} (known: {', '.join(defaults)})")
        defaults[key] = _positive(value, f"{source}: [delivery].{key}")
    channels: dict[str, Upstream] = {}
    raw = data.get("channel", {})
    if not isinstance(raw, dict):
        raise ConfigError(f'{source}: channels are tables: [channel."12345"]')
    for code, entry in raw.items():
        channels[str(code)] = _parse_channel(str(code), entry, defaults, f'{source}: [channel."{code}"]')
    return UpstreamConfig(channels)


def _parse_channel(code: str, entry: Any, defaults: dict[str, float], where: str) -> Upstream:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = set(entry) - {"url", "events", "auth_env", "auth_header", "enabled", *defaults}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    url = entry.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: url must be an http:// or https:// URL")
    events = entry.get("events", list(EVENTS))
    if not isinstance(events, list) or not all(isinstance(e, str) and e in EVENTS for e in events):
        raise ConfigError(f"{where}: events must be a list of {', '.join(EVENTS)}")
    auth_env = entry.get("auth_env")
    if auth_env is not None and (not isinstance(auth_env, str) or not _ENV_NAME.match(auth_env)):
        raise ConfigError(f"{where}: auth_env is the NAME of an environment variable (A-Z, 0-9, _), not a secret")
    header = entry.get("auth_header", "Authorization")
    if not isinstance(header, str) or not _HEADER.match(header):
        raise ConfigError(f"{where}: auth_header must be a header name")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}: enabled must be true or false")
    limits = {k: _positive(entry.get(k, v), f"{where}.{k}") for k, v in defaults.items()}
    return Upstream(
        channel=code,
        url=url,
        events=frozenset(events),
        auth_env=auth_env,
        auth_header=header,
        enabled=enabled,
        max_attempts=int(limits["max_attempts"]),
        backoff_base_seconds=limits["backoff_base_seconds"],
        backoff_cap_seconds=limits["backoff_cap_seconds"],
        timeout_seconds=limits["timeout_seconds"],
    )


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where} must be a positive number")
    return float(value)


def load_upstream(path: str | Path | None = None) -> UpstreamConfig:
    file = Path(path) if path else DATA_DIR / "upstream.toml"
    try:
        with file.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: {exc}") from exc
    return parse_upstream(data, source=str(file))
