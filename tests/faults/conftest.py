from __future__ import annotations

import pytest
from temporalio.testing import WorkflowEnvironment


@pytest.fixture
def dev_address(dev_env: WorkflowEnvironment) -> str:
    """The shared dev server's gRPC address, for worker subprocesses."""
    return dev_env.client.service_client.config.target_host
