"""The `hotline` command: migrate, seed, serve, worker, dev (everything), services, open311-key."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from config.logging import configure_logging
from config.settings import get_settings

SHUTDOWN_GRACE_SECONDS = 5


async def _migrate() -> list[str]:
    from hotline.infra import db
    from hotline.infra.migrate import migrate

    settings = get_settings()
    # The one step that creates the database, and the roles the service connects as (with a superuser URL).
    await db.ensure_database(settings.database_url)
    conn = await db.connect(settings.database_url)
    try:
        return await migrate(conn, runtime_url=settings.database_runtime_url)
    finally:
        await conn.close()


async def _seed(demo: bool, demo_tickets: int = 0, only_if_empty: bool = False) -> dict[str, int]:
    from hotline.infra import db
    from hotline.ops.seed import seed

    settings = get_settings()
    conn = await db.connect(settings.database_url)
    try:
        counts = await seed(conn, demo=demo, demo_password=settings.demo_password)
        has_tickets = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tickets)")
    finally:
        await conn.close()
    if demo_tickets and not (only_if_empty and has_tickets):
        from hotline.infra.runtime import Runtime
        from hotline.ops.demo import populate

        rt = await Runtime.start(settings)
        try:
            counts["demo_tickets"] = (await populate(rt, demo_tickets))["tickets"]
        finally:
            await rt.close()
    return counts


def _ready_to_serve(command: str, *, signs_tokens: bool) -> None:
    """Say what is missing before any process starts (uvicorn would start, fail and log each worker's traceback)."""
    from config.settings import InsecureSecretKey, require_secret_key
    from hotline.infra.db_roles import NotReady, check_service_login

    settings = get_settings()
    try:
        if signs_tokens:
            require_secret_key(settings)
        asyncio.run(check_service_login(settings.database_url, settings.database_runtime_url))
    except (InsecureSecretKey, NotReady) as exc:
        sys.exit(f"hotline {command}: {exc}")
    except (TimeoutError, OSError) as exc:
        # PostgreSQL not up yet: the process's own start deals with it as before (the worker waits and tries again).
        print(f"hotline {command}: PostgreSQL not reachable yet ({exc})", file=sys.stderr)


def cmd_migrate(_: argparse.Namespace) -> None:
    from hotline.infra.migrate import MigrationError

    try:
        applied = asyncio.run(_migrate())
    except MigrationError as exc:
        sys.exit(f"hotline migrate: {exc}")
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")


def cmd_seed(args: argparse.Namespace) -> None:
    if args.demo_tickets and not args.demo:
        sys.exit("hotline seed: --demo-tickets needs --demo (the tickets are logged by the demo accounts)")
    counts = asyncio.run(_seed(args.demo, args.demo_tickets))
    print("seeded: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    if args.demo:
        from hotline.open311.keys import DEMO_USERNAME, demo_key

        print(f"Open311 demo API key ({DEMO_USERNAME}): {demo_key(get_settings().demo_password)}")


async def _add_key(username: str, key: str, label: str) -> bool:
    from hotline.infra import db
    from hotline.open311.keys import add_key

    conn = await db.connect(get_settings().database_url)
    try:
        return await add_key(conn, username, key, label)
    finally:
        await conn.close()


def cmd_open311_key(args: argparse.Namespace) -> None:
    """A new API key for an integration account, printed once: only its hash is stored."""
    from hotline.open311.keys import new_key

    key = new_key()
    if not asyncio.run(_add_key(args.username, key, args.label)):
        sys.exit(f"hotline open311-key: {args.username!r} is not an integration account")
    print(key)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    workers = args.workers or settings.web_workers
    if workers < 1:
        sys.exit("hotline serve: --workers / HOTLINE_WEB_WORKERS must be at least 1")
    _ready_to_serve("serve", signs_tokens=True)
    uvicorn.run(
        "hotline.web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=workers,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        proxy_headers=False,  # the app trusts X-Forwarded-For from HOTLINE_TRUSTED_PROXIES only
        # On SIGTERM/SIGINT open requests get this long, then are cancelled: a live feed (EventSource) never ends
        # by itself, and uvicorn would otherwise wait for it forever. The console's EventSource reconnects.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def cmd_worker(args: argparse.Namespace) -> None:
    # exec, not import: the worker package builds on hotline, never the other way round. Same pid, so SIGTERM from a
    # supervisor reaches arq directly.
    flags = [*(["--burst"] if args.burst else []), *(["--check"] if args.check else [])]
    if not args.check:
        _ready_to_serve("worker", signs_tokens=False)
    os.execv(sys.executable, [sys.executable, "-m", "workers", *flags])


def cmd_services(_: argparse.Namespace) -> None:
    from hotline.ops.devservices import main

    main()


def cmd_dev(args: argparse.Namespace) -> None:
    """make run: services, migrations, demo data, API and worker, until Ctrl-C (hotline/ops/dev.py)."""
    from hotline.ops import dev
    from hotline.ops.devservices import ServiceError, discover

    try:
        os.environ.update(discover())
    except ServiceError as exc:
        sys.exit(f"hotline: {exc}")
    # This is a development machine: the API may sign with the development key (and says so in its settings).
    os.environ.setdefault("HOTLINE_ENV", "development")
    get_settings.cache_clear()
    dev.run(port=args.port, host=args.host, demo_tickets=args.demo_tickets, migrate=_migrate, seed=_seed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hotline", description="Hotline ticket dispatch and SLA tracking")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    p = sub.add_parser("seed", help="load reference data and policies")
    p.add_argument("--demo", action="store_true", help="also create the demo accounts")
    p.add_argument(
        "--demo-tickets",
        type=int,
        default=0,
        metavar="N",
        help="with --demo: also log N demo tickets with twelve weeks of history",
    )
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("serve", help="run the API and console")
    p.add_argument("--port", type=int, default=int(os.environ.get("HOTLINE_PORT", "8000")))
    p.add_argument("--host", default=os.environ.get("HOTLINE_HOST", "127.0.0.1"))
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API worker processes (default: HOTLINE_WEB_WORKERS, else one per core, at most 4)",
    )
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="run the arq worker (escalation, sweep, reports)")
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    p.add_argument("--check", action="store_true", help="health check for supervisors: exit 0 if a worker is alive")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("open311-key", help="issue an Open311 API key for an integration account (printed once)")
    p.add_argument("username", help="the integration account, e.g. integration-open311")
    p.add_argument("--label", default="issued by hotline open311-key", help="a note kept with the key")
    p.set_defaults(func=cmd_open311_key)
    sub.add_parser("services", help="print env exports pointing at reachable PostgreSQL/Redis").set_defaults(
        func=cmd_services
    )
    p = sub.add_parser("dev", help="everything `make run` does")
    p.add_argument(
        "--demo-tickets",
        type=int,
        default=int(os.environ.get("HOTLINE_DEMO_TICKETS", "400")),
        help="demo tickets logged on a first start, when the database has none (default 400; 0: none)",
    )
    p.add_argument("--port", type=int, default=int(os.environ.get("HOTLINE_PORT", "8000")))
    p.add_argument("--host", default=os.environ.get("HOTLINE_HOST", "127.0.0.1"))
    p.set_defaults(func=cmd_dev)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
