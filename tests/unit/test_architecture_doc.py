"""ARCHITECTURE.md cannot silently rot: every package folder is on its map, and every path, function or class it
names in backticks still exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
CODE = "\n".join(
    p.read_text(encoding="utf-8") for d in ("hotline", "sla", "workers", "config") for p in (ROOT / d).rglob("*.py")
)
TICKED = re.findall(r"`([^`\n]+)`", DOC)


def test_every_package_folder_is_on_the_map() -> None:
    folders = sorted(
        str(init.parent.relative_to(ROOT)) + "/"
        for top in ("hotline", "sla", "workers", "config")
        for init in (ROOT / top).rglob("__init__.py")
    )
    missing = [f for f in folders if f not in DOC]
    assert not missing, f"folders missing from ARCHITECTURE.md: {missing}"


def test_every_path_it_names_exists() -> None:
    paths = {t for t in TICKED if "/" in t and " " not in t and not t.startswith(("/", "POST", "GET"))}
    assert len(paths) > 20
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert not missing, f"ARCHITECTURE.md names paths that do not exist: {missing}"


def test_every_function_and_class_it_names_is_defined() -> None:
    functions = {m for t in TICKED if (m := re.fullmatch(r"([a-z_][a-z0-9_]*)\(\)", t) and t[:-2])}
    classes = {t for t in TICKED if re.fullmatch(r"[A-Z][A-Za-z]+", t) and t not in {"METRICS", "UNIQUE"}}
    assert len(functions) > 10 and classes
    undefined = sorted(f for f in functions if not re.search(rf"^\s*(async )?def {f}\(", CODE, re.M))
    undefined += sorted(c for c in classes if not re.search(rf"^\s*class {c}\b|^{c}\s*[:=]", CODE, re.M))
    assert not undefined, f"ARCHITECTURE.md names what the code no longer defines: {undefined}"
