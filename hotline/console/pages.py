"""Console pages (being built; see the issue tracker)."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
