from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session", autouse=True)
def cronjobs_importable() -> None:
    """The test crontabs run tasks from tests/crontab/cronjobs.py (migrate imports them)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
