"""Test-wide settings: under CI, hypothesis draws the same examples every run (no flaky CI);
elsewhere it explores new ones each time, keeping failures in its local database."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev")
settings.load_profile("ci" if os.environ.get("CI") else "dev")
