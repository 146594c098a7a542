"""Background tasks a process owns (followers, flushers, the live-feed hub): stopping one the same way everywhere."""

from __future__ import annotations

import asyncio


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel `task` and wait until it has ended; whatever it raised on the way out is moot at shutdown."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
