"""CPU-heavy work kept off the event loop.

Verifying an argon2 hash costs about 124 ms of CPU by design; on the event loop it stalls every request of the
process for that long, so a wave of sign-ins at the start of a shift froze intake for seconds. It runs here in a
worker thread instead (argon2 releases the GIL), one a process so a wave queues instead of taking 64 MiB per
concurrent verification, at a lowered OS priority so that, when the cores are all busy, intake and handling go
first and sign-ins take what is left: a sign-in may take a second longer, a call being logged should not.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

# One a process: `hotline serve` runs one process per core, so a wave takes at most every core at low priority, and
# argon2 being memory-hard, fewer at once also leave the memory bus to the rest.
PASSWORD_THREADS = 1
PASSWORD_NICE = 10  # CFS weight 110 against 1024 for the event loops: they win a contended core, but not always


def _lower_priority() -> None:
    # On Linux a nice value belongs to a thread (its native id), so this leaves the event loop's thread alone.
    # Elsewhere setpriority would lower the whole process, so it is not done.
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_NICE)
        except OSError:
            pass


_passwords = ThreadPoolExecutor(
    max_workers=PASSWORD_THREADS, thread_name_prefix="hotline-password", initializer=_lower_priority
)


async def password(fn: Callable[..., T], *args: object) -> T:
    """fn(*args) (hashing or verifying a password) in the password threads."""
    return await asyncio.get_running_loop().run_in_executor(_passwords, fn, *args)
