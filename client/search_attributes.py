"""Registering the claim's custom search attributes (defined in workflows/search_attributes.py).

The dev server registers them at start (`--search-attribute`, dev/devserver.py); a production
cluster once per namespace, with `claims search-attributes --apply` (this module, through the
operator service) or the `temporal operator search-attribute create` commands it prints. The
time-skipping test server takes them through the operator service too.
"""

from __future__ import annotations

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from workflows.search_attributes import ALL, operator_commands

__all__ = ["ALL", "missing", "operator_commands", "register"]

_INDEXED = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KeywordList": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


async def missing(client: Client, namespace: str) -> list[str]:
    """The claim's search attributes the namespace does not have yet."""
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    return [key.name for key in ALL if key.name not in listed.custom_attributes]


async def register(client: Client, namespace: str) -> list[str]:
    """Add the attributes the namespace lacks; returns their names (empty when all were there)."""
    try:
        names = await missing(client, namespace)
    except RPCError as err:  # the time-skipping test server cannot list them, only add
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        names = [key.name for key in ALL]
    if names:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=namespace,
                search_attributes={key.name: _INDEXED[key._metadata_type] for key in ALL if key.name in names},
            )
        )
    return names
