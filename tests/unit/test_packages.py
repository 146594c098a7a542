"""What the private servers need installed, and how: from apt when there is one, else named per platform.

apt-get here is a stand-in on PATH that records how it was called (the real one runs in tests/slow, in a bare
Debian container). The cases that depend on this machine's own servers are in
tests/integration/test_private_services.py; the stand-in is the `recording_apt` fixture of tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.ops import packages


@pytest.fixture
def postgis_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "0001_core.sql").write_text("CREATE EXTENSION IF NOT EXISTS pg_trgm;\n")
    (migrations / "0099_geo.sql").write_text('create extension postgis;\nCREATE EXTENSION "pg_partman";\n')
    monkeypatch.setattr(packages, "MIGRATIONS", migrations)


def _no_postgres(_: str) -> None:
    return None


def test_the_extensions_come_from_the_migrations(postgis_migration: None) -> None:
    assert packages.migration_extensions() == {"pg_trgm", "postgis", "pg_partman"}
    # pg_trgm ships with the server; the others are their own Debian packages.
    assert packages.missing_postgres(_no_postgres) == (True, ["pg_partman", "postgis"])


def test_the_real_migrations_need_only_the_server() -> None:
    assert "pg_trgm" in packages.migration_extensions()
    assert packages.missing_postgres(_no_postgres)[1] == sorted(
        e for e in packages.migration_extensions() if e in packages.EXTENSION_PACKAGES
    )


def test_missing_binaries_are_installed_from_apt_saying_what_and_why(
    recording_apt: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    packages.ensure(_no_postgres, True, False, tmp_path / "state")
    calls = recording_apt.read_text().splitlines()
    assert calls[0].startswith("update")
    assert calls[1] == "install -y -q --no-install-recommends postgresql-15 postgresql-client-15"
    out = capsys.readouterr()
    assert out.out == ""  # stdout is eval'd by the Makefile
    (line,) = out.err.splitlines()
    assert line.startswith("hotline: installing postgresql-15 postgresql-client-15 from Debian's packages")
    assert "private servers" in line and str(tmp_path / "state") in line


def test_a_missing_extension_alone_installs_its_package(
    recording_apt: Path, tmp_path: Path, postgis_migration: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server is there; its extension directory is one where PostGIS is present and pg_partman not.
    extensions = tmp_path / "extension"
    extensions.mkdir()
    (extensions / "postgis.control").write_text("default_version = '3.3.2'\n")
    monkeypatch.setattr(packages, "_extension_dirs", lambda find: [extensions])
    packages.ensure(
        lambda binary: f"/opt/pg/bin/{binary}" if binary in ("initdb", "pg_ctl") else None,
        True,
        False,
        tmp_path / "state",
    )
    install = recording_apt.read_text().splitlines()[1]
    assert install.endswith("--no-install-recommends postgresql-15-partman")


def test_without_apt_the_error_says_what_to_install_per_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no apt-get, no redis-server
    with pytest.raises(packages.ServiceError) as exc:
        packages.ensure(_no_postgres, True, True, tmp_path / "state")
    text = str(exc.value)
    assert "PostgreSQL 15, Redis missing" in text
    assert "Debian/Ubuntu:     sudo apt-get install postgresql-15 postgresql-client-15 redis-server" in text
    assert "Fedora:            sudo dnf install postgresql-server postgresql-contrib redis" in text
    assert "macOS (Homebrew):  brew install postgresql@15 redis" in text


def test_services_mode_and_private_ports_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_SERVICES", "Private")
    assert packages.services_mode() == "private"
    monkeypatch.setenv("HOTLINE_SERVICES", "system")
    with pytest.raises(packages.ServiceError, match="HOTLINE_SERVICES must be `auto` or `private`"):
        packages.services_mode()
    monkeypatch.setenv("HOTLINE_PRIVATE_PG_PORT", "65536")
    with pytest.raises(SystemExit, match="HOTLINE_PRIVATE_PG_PORT must be a port number"):
        packages.env_port("HOTLINE_PRIVATE_PG_PORT", 55432)
    monkeypatch.setenv("HOTLINE_PRIVATE_PG_PORT", "45432")
    assert packages.env_port("HOTLINE_PRIVATE_PG_PORT", 55432) == 45432
    monkeypatch.delenv("HOTLINE_PRIVATE_PG_PORT")
    assert packages.env_port("HOTLINE_PRIVATE_PG_PORT", 55432) == 55432
