"""Test-wide settings: under CI, hypothesis draws the same examples every run (no flaky CI);
elsewhere it explores new ones each time, keeping failures in its local database. And each test
starts with viz drawing hubs apart (see `tests.slow.slow_graph`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _keep_hub_drawing() -> Iterator[None]:
    """`tests.slow.slow_graph` turns off drawing hubs apart; each test starts with it on."""
    from viz import style

    before = style.HUB_USERS
    yield
    style.HUB_USERS = before
