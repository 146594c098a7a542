"""PostgreSQL access: database creation, the connection pool and its codecs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

# A connection as the service's code takes it: one of its own (connect(), migrations) or one lent by a pool.
Conn = asyncpg.Connection | PoolConnectionProxy

_encoder = msgspec.json.Encoder()
_decode = msgspec.json.decode
_JSONB_VERSION = b"\x01"  # jsonb's binary form: a version byte, then the JSON text


def _encode_json(value: Any) -> bytes:
    return _encoder.encode(value)


def _encode_jsonb(value: Any) -> bytes:
    return _JSONB_VERSION + _encoder.encode(value)


def _decode_jsonb(data: bytes) -> Any:
    if data[:1] != _JSONB_VERSION:
        raise ValueError(f"unknown jsonb format version {data[:1]!r}")
    return _decode(memoryview(data)[1:])


async def _init_connection(conn: Conn) -> None:
    # Binary format: msgspec's UTF-8 bytes go to the wire as they are, and come back without a text decoding.
    await conn.set_type_codec("json", encoder=_encode_json, decoder=_decode, schema="pg_catalog", format="binary")
    await conn.set_type_codec(
        "jsonb", encoder=_encode_jsonb, decoder=_decode_jsonb, schema="pg_catalog", format="binary"
    )


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


async def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; True when it was created."""
    name = database_name(url)
    conn = await asyncpg.connect(with_database(url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        try:
            # Identifiers cannot be parameters; quote_ident does the escaping on the server side.
            quoted = await conn.fetchval("SELECT quote_ident($1)", name)
            await conn.execute(f"CREATE DATABASE {quoted}")
        except asyncpg.DuplicateDatabaseError:
            return False
        return True
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    """Drop the database named in `url` if it exists, ending its sessions first (benchmarks, tests, demo resets)."""
    name = database_name(url)
    conn = await asyncpg.connect(with_database(url, "postgres"))
    try:
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        quoted = await conn.fetchval("SELECT quote_ident($1)", name)
        await conn.execute(f"DROP DATABASE IF EXISTS {quoted}")
    finally:
        await conn.close()


async def recreate_database(url: str) -> None:
    """An empty database named as in `url`: dropped (sessions ended) and created again."""
    await drop_database(url)
    await ensure_database(url)


async def _keep_session(conn: Conn) -> None:
    """What a connection needs on its way back to the pool, besides the rollback of a transaction left open that
    asyncpg always does: nothing. The code never changes session state (no SET without LOCAL, no LISTEN, no
    session advisory lock, no cursor outside a transaction), so asyncpg's default reset (a round trip running
    RESET ALL, UNLISTEN *, CLOSE ALL and pg_advisory_unlock_all on every release) would only cost time."""


async def create_pool(url: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session, command_timeout=60
    )
    assert pool is not None
    return pool


async def connect(url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn
