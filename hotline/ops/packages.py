"""Install the PostgreSQL and Redis binaries the private servers under .hotline/ need, when they are missing.

On a machine with apt (Debian, Ubuntu) they come from the system's packages, as root or through sudo, after one line
saying what and why. Elsewhere the error names what to install for Debian/Ubuntu, Fedora and macOS (Homebrew).
Nothing is installed when the binaries are already there, so a second `make run` installs nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

PG_MAJOR = 15
MIGRATIONS = Path(__file__).resolve().parents[1] / "infra" / "migrations"
# Debian's package for each extension a migration may create. Extensions not listed (pg_trgm, ...) ship with the
# server package itself.
EXTENSION_PACKAGES = {"postgis": f"postgresql-{PG_MAJOR}-postgis-3", "pg_partman": f"postgresql-{PG_MAJOR}-partman"}
FEDORA_EXTENSIONS = {"postgis": "postgis", "pg_partman": "pg_partman"}
BREW_EXTENSIONS = {"postgis": "postgis", "pg_partman": "pg_partman"}
# The packaged services would take 5432/6379 and come back at every boot with Debian's password authentication;
# the private servers never use them, and a later `make run` must not mistake them for a usable default.
# haproxy (installed by `make deploy-tools` to check deploy/haproxy.cfg) would take port 80 with Debian's sample.
SYSTEM_SERVICES = {"postgresql-": "postgresql", "redis-server": "redis-server", "haproxy": "haproxy"}
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
_CREATE_EXTENSION = re.compile(r"create\s+extension\s+(?:if\s+not\s+exists\s+)?\"?(\w+)", re.IGNORECASE)


class ServiceError(RuntimeError):
    pass


def services_mode() -> str:
    """HOTLINE_SERVICES: unset/`auto` (configured, else defaults if listening, else private) or `private`."""
    mode = os.environ.get("HOTLINE_SERVICES", "").strip().lower() or "auto"
    if mode not in ("auto", "private"):
        raise ServiceError(f"HOTLINE_SERVICES must be `auto` or `private`, got {mode!r}")
    return mode


def env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        # Read at import by devservices: exit with the variable named rather than a traceback.
        sys.exit(f"hotline: {name} must be a port number (1-65535), got {raw!r}")
    return int(raw)


def migration_extensions() -> set[str]:
    """The extensions the migrations create: what the private server must be able to load."""
    found: set[str] = set()
    for sql in sorted(MIGRATIONS.glob("*.sql")):
        found.update(name.lower() for name in _CREATE_EXTENSION.findall(sql.read_text(encoding="utf-8")))
    return found


def _extension_dirs(find: Callable[[str], str | None]) -> list[Path]:
    dirs = [Path(f"/usr/share/postgresql/{PG_MAJOR}/extension")]
    pg_config = find("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--sharedir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            dirs.insert(0, Path(out) / "extension")
    return dirs


def missing_postgres(find: Callable[[str], str | None]) -> tuple[bool, list[str]]:
    """(server binaries missing, extensions the migrations create that the server cannot load)."""
    server_missing = not find("initdb") or not find("pg_ctl")
    wanted = sorted(ext for ext in migration_extensions() if ext in EXTENSION_PACKAGES)
    if server_missing:
        return True, wanted
    dirs = _extension_dirs(find)
    return False, [ext for ext in wanted if not any((d / f"{ext}.control").exists() for d in dirs)]


def instructions(server: bool, extensions: list[str], redis: bool) -> str:
    debian = (
        ([f"postgresql-{PG_MAJOR}", f"postgresql-client-{PG_MAJOR}"] if server else [])
        + [EXTENSION_PACKAGES[e] for e in extensions]
        + (["redis-server"] if redis else [])
    )
    fedora = (
        (["postgresql-server", "postgresql-contrib"] if server else [])
        + [FEDORA_EXTENSIONS[e] for e in extensions]
        + (["redis"] if redis else [])
    )
    brew = (
        ([f"postgresql@{PG_MAJOR}"] if server else [])
        + [BREW_EXTENSIONS[e] for e in extensions]
        + (["redis"] if redis else [])
    )
    path_hint = f' and put "$(brew --prefix postgresql@{PG_MAJOR})/bin" on PATH' if server else ""
    return (
        f"install them, then run the command again (or set HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL):\n"
        f"  Debian/Ubuntu:     sudo apt-get install {' '.join(debian)}\n"
        f"  Fedora:            sudo dnf install {' '.join(fedora)}\n"
        f"  macOS (Homebrew):  brew install {' '.join(brew)}{path_hint}"
    )


def _sudo() -> list[str] | None:
    if os.geteuid() == 0:
        return []
    return ["sudo"] if shutil.which("sudo") else None


def apt_install(packages: list[str], why: str, log: Path) -> None:
    """Install Debian packages as root or through sudo, with their services left stopped.

    One line on stderr says what and why (stdout is eval'd by the Makefile); apt's own output goes to `log` and
    its tail is shown only when it fails.
    """
    sudo = _sudo()
    if sudo is None:
        raise ServiceError(
            f"{', '.join(packages)} missing, and neither root nor sudo to install them: run "
            f"`apt-get install {' '.join(packages)}` as root"
        )
    print(f"hotline: installing {' '.join(packages)} from Debian's packages ({why})", file=sys.stderr, flush=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # A policy-rc.d that answers 101 keeps the packaged services from starting while they are installed; one the
    # machine already has (containers ship one) is left as it is.
    own_policy = not POLICY_RC_D.exists()
    with log.open("ab") as out:
        try:
            if own_policy:
                subprocess.run(
                    [*sudo, "sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {POLICY_RC_D} && chmod 755 {POLICY_RC_D}"],
                    check=True,
                    stdout=out,
                    stderr=out,
                )
            for cmd in (
                ["apt-get", "update", "-q"],
                ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
            ):
                if subprocess.run(
                    [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", *cmd], stdout=out, stderr=out, env=env, check=False
                ).returncode:
                    tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
                    raise ServiceError(f"`{' '.join(cmd)}` failed (full output in {log}):\n" + "\n".join(tail))
        finally:
            if own_policy:
                subprocess.run([*sudo, "rm", "-f", str(POLICY_RC_D)], check=False, stdout=out, stderr=out)
        if shutil.which("systemctl") and Path("/run/systemd/system").is_dir():
            units = [unit for prefix, unit in SYSTEM_SERVICES.items() if any(p.startswith(prefix) for p in packages)]
            if units:
                subprocess.run([*sudo, "systemctl", "disable", "--now", *units], check=False, stdout=out, stderr=out)


def ensure(find: Callable[[str], str | None], postgres: bool, redis: bool, state_dir: Path) -> None:
    """Install what the private servers about to start need; no-op when it is all there."""
    server, extensions = missing_postgres(find) if postgres else (False, [])
    redis_missing = redis and not shutil.which("redis-server")
    if not server and not extensions and not redis_missing:
        return
    what = (
        ([f"PostgreSQL {PG_MAJOR}"] if server else [])
        + [f"the {e} extension" for e in extensions]
        + (["Redis"] if redis_missing else [])
    )
    if not shutil.which("apt-get"):
        raise ServiceError(
            f"{', '.join(what)} missing for the private servers under {state_dir}/: "
            + instructions(server, extensions, redis_missing)
        )
    packages = (
        ([f"postgresql-{PG_MAJOR}", f"postgresql-client-{PG_MAJOR}"] if server else [])
        + [EXTENSION_PACKAGES[e] for e in extensions]
        + (["redis-server"] if redis_missing else [])
    )
    apt_install(
        packages,
        f"{', '.join(what)} for the private servers under {state_dir}/; system services left off",
        state_dir / "install.log",
    )
