"""Role names and the runtime URL derived from the configured one (hotline/infra/db_roles.py); the roles themselves are
tested against PostgreSQL in tests/integration/test_database_roles.py."""

from __future__ import annotations

from hotline.infra.db_roles import as_role, owner_role, runtime_role, user_of


def test_the_roles_are_named_after_the_database() -> None:
    assert (owner_role("hotline"), runtime_role("hotline")) == ("hotline_owner", "hotline_app")


def test_a_long_database_name_gives_distinct_roles_within_postgresql_63_bytes() -> None:
    a, b = "h" * 60 + "_a", "h" * 60 + "_b"  # PostgreSQL would cut both to the same 63 bytes
    names = {owner_role(a), runtime_role(a), owner_role(b), runtime_role(b)}
    assert len(names) == 4 and all(len(n.encode()) <= 63 for n in names)
    assert len(runtime_role("热线" * 20).encode()) <= 63


def test_the_runtime_url_keeps_server_database_and_options_but_not_the_superuser_or_its_password() -> None:
    url = "postgresql://postgres:sup%40er@db.internal:6432/hotline?sslmode=require&user=postgres&password=x"
    assert as_role(url, "hotline_app") == "postgresql://hotline_app@db.internal:6432/hotline?sslmode=require"
    assert as_role("postgresql://[::1]/hotline", "hotline_app") == "postgresql://hotline_app@[::1]/hotline"
    with_pw = as_role(url, "hotline_app", password="p@ss:w/rd")
    assert user_of(with_pw) == ("hotline_app", "p@ss:w/rd")
    assert user_of("postgresql://localhost/hotline") == (None, None)
