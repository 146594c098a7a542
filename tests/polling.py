"""Waiting on a condition in a test: poll it until it holds, with a generous deadline that only guards against a
hang. A test states what it waits for (a row recorded, a process started, a lock reached), never how long it takes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

# How long a test waits for a condition before it fails: a hang guard, not a window the behaviour must fit in (a
# green run waits only as long as the condition takes). The machine is shared; pytest-timeout (600 s) stays above.
PATIENCE = 120.0


async def eventually(
    check: Callable[[], Awaitable[object]],
    *,
    what: str | Callable[[], str],
    within: float = PATIENCE,
    every: float = 0.05,
    tolerate: tuple[type[BaseException], ...] = (),
) -> None:
    """Poll `check()` until it returns something true; fail naming `what` after `within` seconds. Exceptions of the
    `tolerate` types (a server that is down for the moment) count as not yet."""
    deadline = time.monotonic() + within
    while True:
        try:
            if await check():
                return
        except tolerate:
            pass
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {within:.0f} s: {what() if callable(what) else what}")
        await asyncio.sleep(every)
