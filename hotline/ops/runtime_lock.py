"""The runtime lock (requirements.txt): the part of requirements-dev.txt the service itself needs, hashes and all.

requirements-dev.txt is pip-compile's lock of the project with its dev extra. The image installs only what the
service runs on: the packages in pyproject.toml's [project] dependencies and, through pip-compile's `# via`
annotations, everything they pull in, with the same versions and hashes. Nothing is resolved again, so the two
files cannot disagree; `make lock` writes both, and a test checks requirements.txt is this module's output.

Standard library only: `make lock` runs it with the machine's python3, before any venv exists.

    python3 hotline/ops/runtime_lock.py [requirements-dev.txt] [pyproject.toml] > requirements.txt
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = (
    "# The service's runtime dependencies, pinned with their hashes: requirements-dev.txt's entries for\n"
    "# pyproject.toml's [project] dependencies and what they need (hotline/ops/runtime_lock.py; `make lock`).\n"
    "# The image installs it with `pip install --require-hashes -r requirements.txt`.\n"
)
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def entries(lock_text: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (the entry's text: pin, hashes and annotation, the packages it is `via`)."""
    found: dict[str, tuple[str, set[str]]] = {}
    # An entry starts at a line beginning with `name==` and runs to the next one.
    starts = [m for m in re.finditer(r"^[A-Za-z0-9][^\n]*==[^\n]*$", lock_text, re.MULTILINE)]
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(lock_text)
        text = lock_text[m.start() : end].rstrip("\n") + "\n"
        name = _NAME.match(m.group(0))
        if not name:
            continue
        via: set[str] = set()
        comments = [line.strip().lstrip("#").strip() for line in text.splitlines() if line.strip().startswith("#")]
        for line in comments:
            # `# via x` (one) or `# via` then `#   x` lines (several); a hand-kept pin says `via redis, on ...`.
            if line.startswith("via "):
                via.add(canonical(re.split(r"[\s,]", line[4:].strip())[0]))
            elif line and line != "via" and not line.startswith(("via", "-r", "The following")):
                first = line.split()[0]
                if _REQUIREMENT_NAME.fullmatch(first):
                    via.add(canonical(first))
        found[canonical(name.group(1))] = (text, via)
    return found


def runtime_roots(pyproject_text: str) -> set[str]:
    deps = tomllib.loads(pyproject_text)["project"]["dependencies"]
    return {canonical(m.group(1)) for d in deps if (m := _REQUIREMENT_NAME.match(d))}


def runtime_lock(lock_text: str, pyproject_text: str) -> str:
    """The runtime entries of `lock_text`, in its order, under a header."""
    all_entries = entries(lock_text)
    roots = runtime_roots(pyproject_text)
    missing = roots - all_entries.keys()
    if missing:
        raise ValueError(f"not in the lockfile: {', '.join(sorted(missing))} (run `make lock`)")
    needed = set(roots)
    while True:
        more = {name for name, (_, via) in all_entries.items() if name not in needed and via & needed}
        if not more:
            break
        needed |= more
    return HEADER + "".join(text for name, (text, _) in all_entries.items() if name in needed)


def main(argv: list[str]) -> None:
    lock = Path(argv[0]) if argv else ROOT / "requirements-dev.txt"
    pyproject = Path(argv[1]) if len(argv) > 1 else ROOT / "pyproject.toml"
    sys.stdout.write(runtime_lock(lock.read_text(encoding="utf-8"), pyproject.read_text(encoding="utf-8")))


if __name__ == "__main__":
    main(sys.argv[1:])
