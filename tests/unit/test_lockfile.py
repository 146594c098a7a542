"""The lockfile `make install` uses: every dependency pyproject.toml names (the service's and the dev extra's) is
pinned to one version with its hashes, so a fresh clone and CI install exactly what the suite was run with."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins() -> dict[str, tuple[str, list[str]]]:
    text = (ROOT / "requirements-dev.txt").read_text()
    pins: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9_.-]+)==(\S+)", block)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = (
                m.group(2),
                re.findall(r"--hash=sha256:([0-9a-f]{64})", block),
            )
    return pins


def test_every_declared_dependency_is_pinned_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    pins = _pins()
    assert declared - set(pins) == set(), "run `make lock` after changing pyproject.toml's dependencies"
    assert all(hashes for _, hashes in pins.values()), [n for n, (_, h) in pins.items() if not h]


def test_make_install_installs_from_the_lockfile_with_hashes_required() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.txt" in makefile
    assert "$(STAMP): pyproject.toml requirements-dev.txt" in makefile


def test_the_runtime_lock_is_the_service_part_of_the_lockfile() -> None:
    """requirements.txt (what the image installs) is derived from requirements-dev.txt, never resolved apart."""
    from hotline.ops.runtime_lock import canonical, entries, runtime_lock

    dev = (ROOT / "requirements-dev.txt").read_text()
    runtime = (ROOT / "requirements.txt").read_text()
    assert runtime == runtime_lock(dev, (ROOT / "pyproject.toml").read_text()), (
        "requirements.txt is stale: run `python3 hotline/ops/runtime_lock.py > requirements.txt` (or `make lock`)"
    )
    pins = entries(runtime)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert {canonical(_name(r)) for r in project["dependencies"]} <= pins.keys()
    # What the service's packages pull in comes along (uvicorn[standard]'s, litestar[jinja]'s, redis's)...
    assert {"uvloop", "httptools", "jinja2", "hiredis", "async-timeout"} <= pins.keys()
    # ...and nothing only the tests and gates need.
    assert not {"pytest", "mypy", "ruff", "playwright", "schemathesis", "asyncpg-stubs"} & pins.keys()
    dev_entries = entries(dev)
    assert all(text == dev_entries[name][0] for name, (text, _) in pins.items()), "same versions and hashes"


def test_pip_itself_is_pinned_with_hashes_for_make_install_and_the_image() -> None:
    text = (ROOT / "requirements-pip.txt").read_text()
    assert re.search(r"^pip==\S+ \\$", text, re.MULTILINE)
    assert len(re.findall(r"--hash=sha256:[0-9a-f]{64}", text)) >= 1
    assert "--require-hashes -r requirements-pip.txt" in (ROOT / "Makefile").read_text()
    assert "--require-hashes -r /tmp/requirements-pip.txt" in (ROOT / "Dockerfile").read_text()
