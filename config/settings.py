"""Typed settings, read once from the environment."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from functools import lru_cache

DEFAULT_DATABASE_URL = "postgresql://postgres@localhost:5432/hotline"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEV_SECRET = "hotline-dev-secret-change-me"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    database_replica_url: str | None = None
    database_runtime_url: str | None = (
        None  # the role the service connects as, if not `<db>_app` (hotline/infra/db_roles.py)
    )
    redis_url: str = DEFAULT_REDIS_URL
    secret_key: str = DEV_SECRET
    development: bool = False  # HOTLINE_ENV=development: the development secret is allowed (`make run`, tests)
    demo_password: str = "hotline"
    timezone: str = "Asia/Shanghai"
    token_ttl_seconds: int = 8 * 3600
    db_pool_min: int = 2
    db_pool_max: int = 20
    log_level: str = "INFO"
    log_json: bool = True
    webhook_urls: tuple[str, ...] = field(default_factory=tuple)
    public_rate_limit_per_minute: int = 30
    # API processes `hotline serve` starts: one per core, at most 4 (each holds up to db_pool_max connections).
    web_workers: int = field(default_factory=lambda: default_web_workers())
    # Peers whose X-Forwarded-For is believed (CIDRs); anyone else's address is the client's own.
    trusted_proxies: tuple[str, ...] = ()
    api_rate_limit_per_minute: int = 600  # per signed-in account; 0: off
    signin_free_failures: int = 5  # failed sign-ins in a row before an account must wait (1 s, then doubling)
    signin_client_free_failures: int = 20  # the same for a client address (a call centre may share one)
    signin_max_backoff_seconds: int = 900
    upstream_config: str | None = None  # the upstream platforms' feedback file, if not config/data/upstream.toml

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)

        def get(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def get_int(name: str, default: int) -> int:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return int(raw)
            except ValueError as exc:
                raise ValueError(f"{name} must be an integer, got {raw!r}") from exc

        return cls(
            database_url=get("HOTLINE_DATABASE_URL", DEFAULT_DATABASE_URL),
            database_replica_url=env.get("HOTLINE_DATABASE_REPLICA_URL") or None,
            database_runtime_url=env.get("HOTLINE_DATABASE_RUNTIME_URL", "").strip() or None,
            redis_url=get("HOTLINE_REDIS_URL", DEFAULT_REDIS_URL),
            secret_key=get("HOTLINE_SECRET_KEY", DEV_SECRET),
            development=get("HOTLINE_ENV", "production").lower() == "development",
            demo_password=get("HOTLINE_DEMO_PASSWORD", "hotline"),
            timezone=get("HOTLINE_TIMEZONE", "Asia/Shanghai"),
            token_ttl_seconds=get_int("HOTLINE_TOKEN_TTL_SECONDS", 8 * 3600),
            db_pool_min=get_int("HOTLINE_DB_POOL_MIN", 2),
            db_pool_max=get_int("HOTLINE_DB_POOL_MAX", 20),
            log_level=get("HOTLINE_LOG_LEVEL", "INFO").upper(),
            log_json=get("HOTLINE_LOG_FORMAT", "json") != "console",
            webhook_urls=tuple(u for u in get("HOTLINE_WEBHOOK_URLS", "").split(",") if u.strip()),
            public_rate_limit_per_minute=get_int("HOTLINE_PUBLIC_RATE_LIMIT", 30),
            web_workers=get_int("HOTLINE_WEB_WORKERS", default_web_workers()),
            trusted_proxies=parse_networks("HOTLINE_TRUSTED_PROXIES", env.get("HOTLINE_TRUSTED_PROXIES", "")),
            api_rate_limit_per_minute=get_int("HOTLINE_API_RATE_LIMIT", 600),
            signin_free_failures=get_int("HOTLINE_SIGNIN_FREE_FAILURES", 5),
            signin_client_free_failures=get_int("HOTLINE_SIGNIN_CLIENT_FREE_FAILURES", 20),
            signin_max_backoff_seconds=get_int("HOTLINE_SIGNIN_MAX_BACKOFF", 900),
            upstream_config=env.get("HOTLINE_UPSTREAM_CONFIG", "").strip() or None,
        )


def parse_networks(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDR networks, normalized; a typo is refused at start, not silently ignored."""
    networks = []
    for item in (part.strip() for part in raw.split(",")):
        if item:
            try:
                networks.append(str(ipaddress.ip_network(item, strict=False)))
            except ValueError as exc:
                raise ValueError(f"{name}: {item!r} is not an IP address or CIDR network") from exc
    return tuple(networks)


class InsecureSecretKey(ValueError):
    pass


def require_secret_key(settings: Settings) -> None:
    """Outside development, refuse the key in the repository: anyone could sign tokens with it (any user, any role)."""
    if settings.secret_key == DEV_SECRET and not settings.development:
        raise InsecureSecretKey(
            "HOTLINE_SECRET_KEY is not set (or is the development key from the repository), so anyone could forge "
            "session tokens: set it to a long random value, e.g. `python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`, or set HOTLINE_ENV=development on a development machine"
        )


def default_web_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
