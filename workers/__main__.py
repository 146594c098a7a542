"""`python -m workers [--burst]`: run the arq worker. `hotline worker` hands over to this, so hotline never imports
workers/ (the dependency points one way: workers use hotline's services)."""

from __future__ import annotations

import argparse

from arq.worker import run_worker

from config.logging import configure_logging
from config.settings import get_settings
from workers.settings import WorkerSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hotline worker", description="run the arq worker")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    run_worker(WorkerSettings, burst=args.burst)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
