"""The slow tier's shared fixture: one dockerd and one image for the image and systemd tests (built once)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slow.image_engine import built_image
from tests.slow.test_bare_machine import Docker


@pytest.fixture(scope="session")
def engine() -> Iterator[tuple[Docker, Path]]:
    with built_image() as built:
        yield built
