"""Sign-out across API processes: recorded in PostgreSQL, each process holds the signed-out tokens in memory, kept
current over Redis pub/sub, and catches up after Redis comes back. Two Runtimes stand for two API processes."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable

from hotline.auth import revocation
from tests.scratch import free_port, start_redis, stop_redis


async def _until(check: Callable[[], Awaitable[bool] | bool], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.05)
    return False


def _token() -> tuple[str, int]:
    return uuid.uuid4().hex, int(time.time()) + 3600


async def _uid(rt) -> int:
    return await rt.pool.fetchval("SELECT id FROM users WHERE username = 'agent'")


async def _following(rt) -> bool:
    await revocation.of(rt).is_revoked("probe")  # the first check starts following
    return await _until(lambda: revocation.of(rt).following)


async def test_a_sign_out_in_one_process_is_refused_by_the_others_from_memory(settings, database):
    from hotline.infra.runtime import Runtime

    before_id, before_exp = _token()
    a = await Runtime.start(settings)
    b = None
    try:
        uid = await _uid(a)
        await revocation.of(a).revoke(before_id, before_exp, uid)  # signed out before the other process started
        b = await Runtime.start(settings)
        assert await _following(b)
        # While following, a check never asks Redis: True can only come from what b loaded or was told.
        assert await revocation.of(b).is_revoked(before_id)
        token_id, exp = _token()
        assert not await revocation.of(b).is_revoked(token_id)
        await revocation.of(a).revoke(token_id, exp, uid)
        assert await revocation.of(a).is_revoked(token_id)  # at once where it was recorded
        assert await _until(lambda: revocation.of(b).is_revoked(token_id), 3.0)
        assert revocation.of(b).following
        # An expired token's row is pruned by the next sign-out.
        old_id = uuid.uuid4().hex
        await a.pool.execute(
            "INSERT INTO revoked_tokens (token_id, user_id, expires_at) VALUES ($1, $2, now() - interval '1 second')",
            old_id,
            uid,
        )
        await revocation.of(a).revoke(*_token(), uid)
        assert await a.pool.fetchval("SELECT count(*) FROM revoked_tokens WHERE token_id = $1", old_id) == 0
    finally:
        if b is not None:
            await b.close()
        await a.close()


async def test_after_a_redis_restart_the_processes_follow_again_and_keep_what_they_knew(settings, database, tmp_path):
    from hotline.infra.runtime import Runtime

    port = free_port()
    redis_proc = start_redis(port, tmp_path)
    mine = dataclasses.replace(settings, redis_url=f"redis://127.0.0.1:{port}/0")
    a = await Runtime.start(mine)
    b = await Runtime.start(mine)
    try:
        assert await _following(b)
        uid = await _uid(a)
        known_id, exp = _token()
        await revocation.of(a).revoke(known_id, exp, uid)
        assert await _until(lambda: revocation.of(b).is_revoked(known_id), 3.0)

        stop_redis(redis_proc)  # Redis keeps nothing on disk
        assert await _until(lambda: not revocation.of(b).following)
        assert await revocation.of(b).is_revoked(known_id)  # still refused
        assert not await revocation.of(b).is_revoked(uuid.uuid4().hex)  # others go through, no error
        # Signed out while Redis is down: recorded all the same, and the other process learns it by polling.
        during_id, during_exp = _token()
        await revocation.of(a).revoke(during_id, during_exp, uid)
        assert await revocation.of(a).is_revoked(during_id)
        assert await _until(lambda: revocation.of(b).is_revoked(during_id), 3 * revocation.POLL_SECONDS)

        redis_proc = start_redis(port, tmp_path)
        assert await _until(lambda: revocation.of(b).following, 20.0)
        new_id, new_exp = _token()
        for _ in range(20):  # a's pool may first hit its dead socket
            try:
                await revocation.of(a).revoke(new_id, new_exp, uid)
                break
            except Exception:
                await asyncio.sleep(0.1)
        assert await _until(lambda: revocation.of(b).is_revoked(new_id), 3.0)
        assert revocation.of(b).following
        assert await revocation.of(b).is_revoked(known_id) and await revocation.of(b).is_revoked(during_id)
    finally:
        await b.close()
        await a.close()
        stop_redis(redis_proc)
