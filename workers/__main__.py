"""`python -m workers [--burst]`: run the arq worker. `hotline worker` hands over to this, so hotline never imports
workers/ (the dependency points one way: workers use hotline's services).

arq stops its worker when Redis goes away. Outside burst mode the worker is started again, with backoff, until
Redis is back: an operator should not have to restart workers after a Redis restart, and nothing is lost meanwhile
(PostgreSQL holds every deadline; the start-up sweep records what fell due). SIGTERM/SIGINT still stop it cleanly.
"""

from __future__ import annotations

import argparse
import sys
import time

import structlog
from arq.worker import check_health, run_worker
from redis.exceptions import RedisError

from config.logging import configure_logging
from config.settings import get_settings
from workers.settings import WorkerSettings

log = structlog.get_logger("hotline.worker")
MAX_BACKOFF_SECONDS = 30.0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hotline worker", description="run the arq worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if a worker refreshed its health key in Redis within the last ~11 s, else 1",
    )
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    if args.check:
        sys.exit(check_health(WorkerSettings))  # type: ignore[arg-type]
    if args.burst:
        run_worker(WorkerSettings, burst=True)  # type: ignore[arg-type]
        return
    delay = 1.0
    while True:
        started = time.monotonic()
        try:
            run_worker(WorkerSettings)  # type: ignore[arg-type]
            return  # stopped by a signal: a clean shutdown
        except (RedisError, OSError) as exc:
            if time.monotonic() - started > 60:
                delay = 1.0  # it had been running fine: this is a new outage
            log.warning("worker_redis_unavailable", error=type(exc).__name__, retry_in_seconds=delay)
            time.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)


if __name__ == "__main__":
    main()
