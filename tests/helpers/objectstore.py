"""The object store of the tests (issue 22.3): a real SeaweedFS (`weed mini`, built by
scripts/ensure-seaweedfs.sh) for the session, on ports 17450-17499 of loopback; never a mock."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from activities.object_store import ObjectStore
from dev.postgres import port_free
from dev.seaweedfs import PORTS_NEEDED, SeaweedFS, start

PORTS = range(17450, 17500)


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    home = Path(tempfile.mkdtemp(prefix="premium-claims-s3-"))
    ports = [p for p in PORTS if port_free(p)][:PORTS_NEEDED]
    if len(ports) < PORTS_NEEDED:
        pytest.fail(f"fewer than {PORTS_NEEDED} free ports in {PORTS.start}-{PORTS.stop - 1} for SeaweedFS")
    server = start(home, ports)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def object_store(server: SeaweedFS, keys: dict[str, bytes], bucket: str | None = None, **options: object) -> ObjectStore:
    """A store over a fresh bucket (or the one named) of the session's SeaweedFS."""
    return ObjectStore(
        server.endpoint,
        bucket or "t-" + secrets.token_hex(6),
        keys=keys,
        primary_key_id=next(iter(keys)),
        access_key_id=server.access_key_id,
        secret_access_key=server.secret_access_key,
        create_bucket=True,
        **options,  # type: ignore[arg-type]
    )
