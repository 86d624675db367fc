"""Setting a namespace up on a cluster: the namespace with its retention, then the claim's search
attributes. One code path for every cluster: docker-compose.yml's one-shot `namespace` job and
`claims cluster up` here both run `claims namespace --apply`, which calls `set_up`.

The dev server makes its namespace itself (`--namespace`); a real cluster starts with none but
its own `temporal-system`, and the plain `temporalio/server` image creates none either.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    RegisterNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from client.search_attributes import ALL, missing, register


@dataclass(frozen=True)
class NamespaceSetUp:
    created: bool  # the namespace was made now
    retention_changed: bool  # it was there with another retention, now set to the one asked
    added: list[str]  # search attributes registered now


async def ensure_namespace(client: Client, namespace: str, retention: timedelta) -> tuple[bool, bool]:
    """The namespace exists with this retention: (created now, retention changed now)."""
    service = client.workflow_service
    try:
        described = await service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        period = Duration()
        period.FromTimedelta(retention)
        try:
            await service.register_namespace(
                RegisterNamespaceRequest(
                    namespace=namespace,
                    description="premium-customer claims",
                    workflow_execution_retention_period=period,
                )
            )
        except RPCError as again:  # another set-up job made it in between
            if again.status != RPCStatusCode.ALREADY_EXISTS:
                raise
        return True, False
    if described.config.workflow_execution_retention_ttl.ToTimedelta() == retention:
        return False, False
    period = Duration()
    period.FromTimedelta(retention)
    await service.update_namespace(
        UpdateNamespaceRequest(namespace=namespace, config=NamespaceConfig(workflow_execution_retention_ttl=period))
    )
    return False, True


_SAMPLE_VALUE = {"Keyword": "''", "KeywordList": "''", "Bool": "true", "Datetime": "'2000-01-01T00:00:00Z'"}


def naming_every_attribute() -> str:
    """A visibility query that names every claim attribute: the frontend checks each against
    its cache of the namespace's attributes, which a new registration reaches within 60 s."""
    return " OR ".join(f"{key.name} = {_SAMPLE_VALUE[key._metadata_type]}" for key in ALL)


async def wait_until_usable(client: Client, namespace: str, timeout: float = 90.0) -> None:
    """Until the frontend knows the namespace and every claim attribute: starting a claim before
    its caches have them is refused (a new namespace within ~10 s, new attributes within 60 s)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            if not await missing(client, namespace):
                await client.count_workflows(naming_every_attribute())
                return
        except RPCError as err:
            if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.UNAVAILABLE, RPCStatusCode.INVALID_ARGUMENT):
                raise
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"namespace {namespace} not usable after {timeout:.0f} s: {err.message}") from err
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"namespace {namespace}: search attributes still missing after {timeout:.0f} s")
        await asyncio.sleep(1.0)


async def set_up(client: Client, namespace: str, retention: timedelta) -> NamespaceSetUp:
    """The namespace with its retention and the claim's search attributes, ready for claims.
    Idempotent: a second run changes nothing and says so."""
    created, changed = await ensure_namespace(client, namespace, retention)
    added = await _register_when_known(client, namespace)
    await wait_until_usable(client, namespace)
    return NamespaceSetUp(created, changed, added)


async def _register_when_known(client: Client, namespace: str, timeout: float = 60.0) -> list[str]:
    """Register the attributes as soon as the operator service sees the new namespace."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await register(client, namespace)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND or asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(1.0)
