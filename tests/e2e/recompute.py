"""Play the worker's part for the browser tests (which run `hotline serve` only): run the recomputation of running
clocks under an SLA policy version, as the queued job would, and print how many clocks moved.

    python -m tests.e2e.recompute VERSION
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

from config.settings import get_settings
from hotline.infra.runtime import Runtime
from hotline.policies import recompute


async def main(version: int) -> None:
    rt = await Runtime.start(get_settings())
    try:
        moved, after, more = 0, 0, True
        while more:
            progress = await recompute.recompute_open(
                rt, version=version, after_id=after, now_fn=lambda: datetime.now(UTC), pause_seconds=0
            )
            moved, after, more = moved + progress.moved, progress.last_id, progress.more
    finally:
        await rt.close()
    print(moved, flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
