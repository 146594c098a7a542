"""`make bench`: every benchmark under tests/perf/, one after another, each printing its own figures.

    .venv/bin/python tests/perf/run_all.py            # the full set (the two big-history ones take a while)
    .venv/bin/python tests/perf/run_all.py --quick    # smaller sizes, for a check that they all still run

They run one at a time on purpose, with a pause between them: on a 2-core machine two benchmarks at once, or one
right after another's writes, measure each other. Exit status is
non-zero if any script fails or reports FAIL.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETTLE_SECONDS = 20

FULL = [
    ("sla deadlines", ["sla_bench.py"]),
    ("exact-time escalation (a)", ["escalation_bench.py"]),
    ("intake vs baseline", ["intake/run.py"]),
    ("sweep tick (b)", ["sweep_bench.py", "--sizes", "100000:5000000,1000000:5000000"]),
    ("closure report (c)", ["report_bench.py", "--load-budget", "100000"]),
    ("live feed, 1,000 consoles", ["live_bench.py"]),
    ("sign-in wave during intake", ["signin_wave_bench.py"]),
]
QUICK = [
    ("sla deadlines", ["sla_bench.py"]),
    ("exact-time escalation (a)", ["escalation_bench.py", "--clocks", "2000", "--lead", "15"]),
    ("intake vs baseline", ["intake/run.py", "--seconds", "10", "--workers", "2"]),
    ("sweep tick (b)", ["sweep_bench.py", "--sizes", "20000:100000"]),
    ("closure report (c)", ["report_bench.py", "--open", "20000", "--closed", "100000", "--runs", "5"]),
    ("live feed, 1,000 consoles", ["live_bench.py", "--clients", "200", "--tickets", "10"]),
    ("sign-in wave during intake", ["signin_wave_bench.py", "--seconds", "8", "--signins", "40", "--warmup", "2"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    failed: list[str] = []
    for i, (name, argv) in enumerate(QUICK if args.quick else FULL):
        if i:
            # The previous benchmark's writes are still being checkpointed and vacuumed: a sweep measured straight
            # after 50,000 intakes read 53 ms where it reads 39 ms on a quiet database.
            time.sleep(SETTLE_SECONDS)
        print(f"\n=== {name}: {' '.join(argv)}", flush=True)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, str(HERE / argv[0]), *argv[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sys.stdout.write(proc.stdout)
        print(f"--- {name}: exit {proc.returncode} after {time.monotonic() - started:.0f} s", flush=True)
        if proc.returncode != 0 or "\nFAIL" in proc.stdout:
            failed.append(name)
    print("\nall benchmarks passed their targets" if not failed else f"\nFAILED: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
