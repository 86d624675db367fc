from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.running import Service, running_service


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """`claims run` in tmp_path, stopped (Ctrl-C) at the end."""
    yield from running_service(tmp_path)
