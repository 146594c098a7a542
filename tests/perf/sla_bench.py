"""Benchmark: reply deadlines per second on one core (target >= 50,000/s).

A plain script, not collected by pytest:  .venv/bin/python tests/perf/sla_bench.py [count]
Starts are spread over the whole of 2026 at random minutes (nights, weekends, the Spring Festival and National
Day breaks included), over every channel and kind, a tenth of them urgent, a tenth capped by an upstream deadline.
Then the same deadlines each on its ticket's territory's calendar (sla.TerritoryCalendars, as the service picks
them), with two of the eight territories holding typhoon days of their own.
"""

from __future__ import annotations

import random
import sys
import time
import tomllib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Benchmark the working tree, whatever the state of the installed package.
sys.path.insert(0, str(ROOT))

import sla  # noqa: E402
from config.reference import load_calendar_config  # noqa: E402

DATA = ROOT / "config" / "data"
CHANNELS = ("96196", "12345", "12328", "12319", "web")
KINDS = ("consultation", "help", "complaint", "report", "suggestion", "praise")
TERRITORIES = ("320600", "320613", "320612", "320614", "320623", "320681", "320682", "320685")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    overrides, office_hours = load_calendar_config(DATA)
    calendar = sla.build_calendar(overrides, office_hours=office_hours)  # as the service builds it
    policies = sla.PolicySet.from_config(
        tomllib.loads((DATA / "sla_policies.toml").read_text("utf-8")), channels=CHANNELS, kinds=KINDS
    )
    rng = random.Random(20260213)
    year_start = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8)))
    cases = []
    for _ in range(count):
        start = year_start + timedelta(minutes=rng.randrange(365 * 24 * 60))
        cap = start + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.1 else None
        cases.append((start, rng.choice(CHANNELS), rng.choice(KINDS), rng.random() < 0.1, cap, rng.choice(TERRITORIES)))
    typhoons = [(date(2026, 8, d), False, "台风停工") for d in (3, 4)] + [(date(2026, 12, 9), False, "台风停工")]
    b0 = time.process_time()
    calendars = sla.TerritoryCalendars(calendar, {"320681": typhoons, "320682": typhoons[:1]})
    build_ms = (time.process_time() - b0) * 1000

    compute = sla.compute_deadline
    best_wall = best_cpu = per_territory_cpu = float("inf")
    for _ in range(3):  # best of three: the figure should not depend on a noisy neighbour
        w0, c0 = time.perf_counter(), time.process_time()
        for start, channel, kind, urgent, cap, _territory in cases:
            compute(policies, calendar, clock="reply", start=start, channel=channel, kind=kind, urgent=urgent, cap=cap)
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        c0 = time.process_time()
        pick = calendars.for_territory
        for start, channel, kind, urgent, cap, territory in cases:
            compute(
                policies,
                pick(territory),
                clock="reply",
                start=start,
                channel=channel,
                kind=kind,
                urgent=urgent,
                cap=cap,
            )
        per_territory_cpu = min(per_territory_cpu, time.process_time() - c0)
    sample = compute(
        policies,
        calendar,
        clock="reply",
        start=datetime(2026, 9, 30, 10, tzinfo=year_start.tzinfo),
        channel="96196",
        kind="consultation",
        urgent=False,
    )
    # CPU time is the one-core figure; wall time also counts whatever else the machine is doing.
    print(
        f"{count} reply deadlines: {count / best_cpu:,.0f} deadlines/s of CPU time on one core "
        f"({count / best_wall:,.0f}/s wall clock; target >= 50,000/s)"
    )
    print(
        f"{count} reply deadlines on their territory's calendar: {count / per_territory_cpu:,.0f} deadlines/s of CPU "
        f"time (two territory overlays built in {build_ms:.1f} ms)"
    )
    print(f"sample: received 2026-09-30 10:00 +08, consultation -> due {sample.due_at.astimezone(year_start.tzinfo)}")
    print("PASS" if min(count / best_cpu, count / per_territory_cpu) >= 50_000 else "FAIL (under 50,000 deadlines/s)")


if __name__ == "__main__":
    main()
