"""`hotline dev` (what `make run` does): services, migrations, demo data, then the API and the worker until Ctrl-C.

Stopping. Ctrl-C (SIGINT from the terminal) or SIGTERM stops everything within STOP_SECONDS: each child leads a process
group of its own, so `hotline dev` alone decides how they stop: one SIGTERM to each group (uvicorn's supervisor and
its worker processes, the arq worker), and SIGKILL for whatever of a group is still there after the grace (the
worker's jobs are idempotent and run again on the next start). SIGINT is taken explicitly, because a process started in
the background by a shell without job control inherits SIGINT ignored, and Python then never raises
KeyboardInterrupt: Ctrl-C sent to `hotline dev` did nothing. A browser tab's live feed keeps a request open forever:
`hotline serve` gives open requests cli.SHUTDOWN_GRACE_SECONDS before it cancels them.

Logging. One format on the terminal for every process: HOTLINE_LOG_FORMAT if set, else structlog's console renderer
when stdout is a terminal and JSON otherwise (config.logging.log_format_for), exported to the children. What this
command says (migrations, seeding, the addresses to open) are log lines in that format too.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from config.logging import configure_logging, log_format_for
from config.settings import get_settings

STOP_SECONDS = 8.0  # SIGTERM to SIGKILL: inside the 10 s a developer waits after Ctrl-C
log = structlog.get_logger("hotline.dev")


class _Stop(Exception):
    """SIGTERM, turned into the same unwinding as Ctrl-C's KeyboardInterrupt."""


def _raise_stop(*_: object) -> None:
    raise _Stop


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the child leads its group: uvicorn's worker processes are in it too
    except (ProcessLookupError, PermissionError):
        pass  # the whole group is gone already


def stop(children: dict[str, subprocess.Popen[bytes]], grace: float = STOP_SECONDS) -> None:
    """SIGTERM to every child's group, SIGKILL to what is left after `grace` (or at a second Ctrl-C)."""
    forced: list[int] = []
    signal.signal(signal.SIGINT, lambda sig, _frame: forced.append(sig))
    signal.signal(signal.SIGTERM, lambda sig, _frame: forced.append(sig))
    for proc in children.values():
        _signal_group(proc, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(p.poll() is None for p in children.values()) and not forced and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [name for name, p in children.items() if p.poll() is None]
    if left:
        log.warning("dev_stop_forced", still_running=left, after_seconds=grace)
    for proc in children.values():
        _signal_group(proc, signal.SIGKILL)  # never left behind, serving on after `make run` is gone
    for proc in children.values():
        proc.wait()


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "hotline.ops.cli", *args], process_group=0)


def run(
    *,
    port: int,
    host: str,
    demo_tickets: int,
    migrate: Callable[[], Coroutine[Any, Any, list[str]]],
    seed: Callable[..., Coroutine[Any, Any, dict[str, int]]],
) -> None:
    """Everything, until Ctrl-C or SIGTERM. `migrate` and `seed` are cli's steps (shared with its own commands)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _raise_stop)
    fmt = log_format_for(sys.stdout, os.environ.get("HOTLINE_LOG_FORMAT"))
    os.environ["HOTLINE_LOG_FORMAT"] = fmt  # every process it starts writes the same format
    get_settings.cache_clear()
    configure_logging(get_settings().log_level, json=fmt == "json")
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        applied = asyncio.run(migrate())
        log.info("dev_migrated", applied=", ".join(applied) if applied else "none (up to date)")
        # A console with nothing in it shows nothing: a first start fills twelve weeks of demo history (once).
        counts = asyncio.run(seed(True, demo_tickets=demo_tickets, only_if_empty=True))
        log.info("dev_seeded", **counts)
        children["serve"] = _spawn("serve", "--port", str(port), "--host", host)
        children["worker"] = _spawn("worker")
        _announce(port)
        while all(p.poll() is None for p in children.values()):
            time.sleep(0.2)
        name, exited = next((n, p) for n, p in children.items() if p.poll() is not None)
        log.error("dev_child_exited", command=f"hotline {name}", returncode=exited.returncode)
    except (KeyboardInterrupt, _Stop):
        log.info("dev_stopping", within_seconds=STOP_SECONDS)
    finally:
        stop(children)
    log.info("dev_stopped")


def _announce(port: int) -> None:
    password = get_settings().demo_password
    demo: dict[str, Any] = {
        "demo_logins": "agent, dispatcher, manager, admin, integration-12345, integration-12328, integration-12319, "
        "handler-<unit code> (e.g. handler-320612-bureau, handler-city-taxi)",
        # The demo accounts' password is printed only while it is the published default.
        "demo_logins_password": password if password == "hotline" else "$HOTLINE_DEMO_PASSWORD",
    }
    log.info(
        "Hotline is running; press Ctrl-C to stop",
        console=f"http://localhost:{port}/",
        api_docs=f"http://localhost:{port}/schema",
        **demo,
    )
