"""sla/ is pure: it imports nothing of the service or of I/O, and never reads the clock (`now` is an argument)."""

from __future__ import annotations

import ast
from pathlib import Path

SLA = Path(__file__).resolve().parents[3] / "sla"
FORBIDDEN_IMPORTS = {
    "hotline",
    "workers",
    "config",
    "asyncpg",
    "redis",
    "arq",
    "litestar",
    "httpx",
    "socket",
    "requests",
    "os",
    "subprocess",
}
CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("time", "localtime"),
}


def _modules() -> list[Path]:
    files = sorted(SLA.glob("*.py"))
    assert len(files) >= 5, files
    return files


def test_sla_imports_nothing_of_the_service_or_of_io():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_IMPORTS, f"{path.name} imports {name}"


def test_sla_never_reads_the_clock():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
                assert (owner_name, node.func.attr) not in CLOCK_READS, (
                    f"{path.name}:{node.lineno} reads the clock ({owner_name}.{node.func.attr})"
                )
