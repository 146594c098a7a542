"""Play the worker's part for the browser tests (which run `hotline serve` only): run the catch-up sweep once, as
its cron tick would (record the escalation steps that are due, tell their people, publish them live), and print
how many steps it recorded.

    python -m tests.e2e.sweep
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from config.settings import get_settings
from hotline.escalation import catch_up
from hotline.infra.runtime import Runtime


async def main() -> None:
    rt = await Runtime.start(get_settings())
    try:
        result = await catch_up.sweep(rt, now=datetime.now(UTC))
    finally:
        await rt.close()
    print(result.recorded, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
