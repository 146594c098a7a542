"""Reference data (channels, territories, categories, kinds, units, routing rules, demo accounts): load and validate.

Files are TOML under config/data/. Validation errors name the offending entry so an operator can fix the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
BUREAU_TEMPLATE = "{territory}-bureau"
CHANNEL_KINDS = {"phone", "transfer", "web"}
ROLES = ("agent", "dispatcher", "handler", "manager", "admin", "integration")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_TERRITORY = re.compile(r"^\d{6}$")


class ConfigError(ValueError):
    """A reference data file is invalid; the message names the file and the entry."""


@dataclass(frozen=True)
class Channel:
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Territory:
    code: str
    name: str
    parent: str | None = None


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    territory: str | None


@dataclass(frozen=True)
class Rule:
    id: int
    category: str
    territory: str  # a code or "*"
    unit: str  # a unit code or BUREAU_TEMPLATE


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    display_name: str
    unit: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Reference:
    channels: dict[str, Channel]
    territories: dict[str, Territory]
    categories: dict[str, str]
    kinds: dict[str, str]
    units: dict[str, Unit]
    rules: tuple[Rule, ...]
    accounts: tuple[Account, ...] = field(default_factory=tuple)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _req(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: missing or empty '{key}'")
    return value.strip()


def parse_reference(
    data: dict[str, Any], accounts_data: dict[str, Any] | None = None, *, source: str = "reference.toml"
) -> Reference:
    """Validate the parsed reference.toml (and accounts.toml) in dependency order: channels, territories,
    categories and kinds, units, routing rules, accounts. The first error found is raised, naming the entry."""
    channels = _parse_channels(data.get("channel", []), source)
    territories = _parse_territories(data.get("territory", []), source)
    categories = _parse_codes(data.get("categories", {}), "category", source)
    kinds = _parse_codes(data.get("kinds", {}), "kind", source)
    units = _parse_units(data.get("unit", []), territories, source)
    rules = _parse_rules(data.get("rule", []), categories, territories, units, source)
    _check_bureau_rules(rules, territories, units, source)
    accounts = _parse_accounts(accounts_data, channels, units) if accounts_data else []
    return Reference(channels, territories, categories, kinds, units, tuple(rules), tuple(accounts))


def _parse_channels(entries: list[dict[str, Any]], source: str) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    for i, entry in enumerate(entries):
        where = f"{source}: channel #{i + 1}"
        code = _req(entry, "code", where)
        if code in channels:
            raise ConfigError(f"{where}: duplicate channel {code!r}")
        kind = _req(entry, "kind", where)
        if kind not in CHANNEL_KINDS:
            raise ConfigError(f"{where}: kind {kind!r} must be one of {sorted(CHANNEL_KINDS)}")
        channels[code] = Channel(code, _req(entry, "name", where), kind)
    return channels


def _parse_territories(entries: list[dict[str, Any]], source: str) -> dict[str, Territory]:
    territories: dict[str, Territory] = {}
    for i, entry in enumerate(entries):
        where = f"{source}: territory #{i + 1}"
        code = _req(entry, "code", where)
        if not _TERRITORY.match(code):
            raise ConfigError(f"{where}: code {code!r} is not a 6-digit GB/T 2260 code")
        if code in territories:
            raise ConfigError(f"{where}: duplicate territory {code!r}")
        territories[code] = Territory(code, _req(entry, "name", where), entry.get("parent"))
    for t in territories.values():
        if t.parent is not None and t.parent not in territories:
            raise ConfigError(f"{source}: territory {t.code} has unknown parent {t.parent!r}")
    return territories


def _parse_codes(raw: dict[Any, Any], label: str, source: str) -> dict[str, str]:
    """A table of code = Chinese name (categories, kinds); codes are lower-case identifiers."""
    table = {str(k): str(v) for k, v in raw.items()}
    for code in table:
        if not _CODE.match(code):
            raise ConfigError(f"{source}: {label} code {code!r} is not a lower-case identifier")
    return table


def _parse_units(entries: list[dict[str, Any]], territories: dict[str, Territory], source: str) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for i, entry in enumerate(entries):
        where = f"{source}: unit #{i + 1}"
        code = _req(entry, "code", where)
        if not _CODE.match(code):
            raise ConfigError(f"{where}: code {code!r} is not a lower-case identifier")
        if code in units:
            raise ConfigError(f"{where}: duplicate unit {code!r}")
        territory = entry.get("territory")
        if territory is not None and territory not in territories:
            raise ConfigError(f"{where} ({code}): unknown territory {territory!r}")
        units[code] = Unit(code, _req(entry, "name", where), territory)
    return units


def _parse_rules(
    entries: list[dict[str, Any]],
    categories: dict[str, str],
    territories: dict[str, Territory],
    units: dict[str, Unit],
    source: str,
) -> list[Rule]:
    rules: list[Rule] = []
    seen: dict[tuple[str, str], int] = {}
    for i, entry in enumerate(entries):
        rid = i + 1
        where = f"{source}: rule #{rid}"
        category = _req(entry, "category", where)
        territory = _req(entry, "territory", where)
        unit = _req(entry, "unit", where)
        if category not in categories:
            raise ConfigError(f"{where}: unknown category {category!r}")
        if territory != "*" and territory not in territories:
            raise ConfigError(f"{where}: unknown territory {territory!r}")
        if unit != BUREAU_TEMPLATE and unit not in units:
            raise ConfigError(f"{where}: unknown unit {unit!r}")
        key = (category, territory)
        if key in seen:
            raise ConfigError(
                f"{where}: overlaps rule #{seen[key]} (both route category {category!r} in territory {territory!r})"
            )
        seen[key] = rid
        rules.append(Rule(rid, category, territory, unit))
    return rules


def _check_bureau_rules(
    rules: list[Rule], territories: dict[str, Territory], units: dict[str, Unit], source: str
) -> None:
    """A bureau template must resolve for every territory it can apply to (those without a more specific rule)."""
    specific = {(rule.category, rule.territory) for rule in rules}
    for rule in rules:
        if rule.unit != BUREAU_TEMPLATE:
            continue
        if rule.territory != "*":
            targets = [rule.territory]
        else:
            targets = [t for t in territories if (rule.category, t) not in specific]
        for t in targets:
            if f"{t}-bureau" not in units:
                raise ConfigError(
                    f"{source}: rule #{rule.id} routes category {rule.category!r} in territory {t} to "
                    f"unknown unit '{t}-bureau'"
                )


def _parse_accounts(
    accounts_data: dict[str, Any], channels: dict[str, Channel], units: dict[str, Unit]
) -> list[Account]:
    accounts: list[Account] = []
    names: set[str] = set()
    for i, entry in enumerate(accounts_data.get("account", [])):
        account = _parse_account(entry, f"accounts.toml: account #{i + 1}", channels, units)
        if account.username in names:
            raise ConfigError(f"accounts.toml: account #{i + 1}: duplicate username {account.username!r}")
        names.add(account.username)
        accounts.append(account)
    if accounts_data.get("handler_per_unit"):
        for unit in units.values():
            username = f"handler-{unit.code}"
            if username not in names:
                accounts.append(Account(username, "handler", f"{unit.name}承办人", unit=unit.code))
    return accounts


def _parse_account(entry: dict[str, Any], where: str, channels: dict[str, Channel], units: dict[str, Unit]) -> Account:
    username = _req(entry, "username", where)
    role = _req(entry, "role", where)
    if role not in ROLES:
        raise ConfigError(f"{where} ({username}): unknown role {role!r}")
    unit = entry.get("unit")
    channel = entry.get("channel")
    if role == "handler" and unit not in units:
        raise ConfigError(f"{where} ({username}): a handler needs a known unit, got {unit!r}")
    if role == "integration" and channel not in channels:
        raise ConfigError(f"{where} ({username}): an integration needs a known channel, got {channel!r}")
    return Account(username, role, entry.get("display_name", username), unit, channel)


def load_reference(data_dir: Path = DATA_DIR) -> Reference:
    return parse_reference(
        _read(data_dir / "reference.toml"), _read(data_dir / "accounts.toml"), source=str(data_dir / "reference.toml")
    )


def load_toml(name: str, data_dir: Path = DATA_DIR) -> dict[str, Any]:
    return _read(data_dir / name)


DEFAULT_OFFICE_HOURS = (("08:30", "12:00"), ("13:30", "17:30"))


def load_calendar_config(data_dir: Path = DATA_DIR) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """calendar.toml split into the overrides sla.build_calendar validates and the office hours (optional key
    `office_hours`, a list of [start, end] pairs in local time; default 08:30-12:00 and 13:30-17:30)."""
    doc = dict(load_toml("calendar.toml", data_dir))
    raw = doc.pop("office_hours", None)
    if raw is None:
        return doc, DEFAULT_OFFICE_HOURS
    if not isinstance(raw, list) or not all(isinstance(p, list) and len(p) == 2 for p in raw):
        raise ConfigError('calendar.toml: office_hours must be a list of [start, end] pairs, e.g. [["08:30", "12:00"]]')
    return doc, tuple((str(a), str(b)) for a, b in raw)
