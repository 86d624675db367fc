"""Issue 24: the search attributes fit SQL visibility on PostgreSQL (Temporal's schema gives each
namespace Keyword 10, Bool/Datetime/Int/Double 3 each, Text 3, KeywordList 3 columns), and none
of the work queue's holds personal data: codes, a tier and claim-free years, and times only."""

from __future__ import annotations

from collections import Counter

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.service import RPCError, RPCStatusCode

from client.search_attributes import register
from workflows import search_attributes as sa


def test_the_attributes_fit_the_sql_visibility_columns() -> None:
    used = Counter(sa.cli_type(key) for key in sa.ALL)
    assert {t: n for t, n in used.items() if n > sa.SQL_VISIBILITY_COLUMNS[t]} == {}
    # what is left after the work queue: Datetime is full, so its times are Int seconds
    assert used["Datetime"] == 3 and used["Int"] == 2 and used["Keyword"] == 6 and used["KeywordList"] == 2
    assert len({key.name for key in sa.ALL}) == len(sa.ALL)


def test_the_work_queue_attributes_are_codes_and_times() -> None:
    assert {sa.HELD_BY.name, sa.PREMIUM_TAG.name, sa.WAIT_HALF.name, sa.WAIT_DUE.name} <= {k.name for k in sa.ALL}
    assert sa.cli_type(sa.WAIT_HALF) == sa.cli_type(sa.WAIT_DUE) == "Int"
    assert sa.epoch(None) is None


async def test_every_type_can_be_registered_on_a_cluster() -> None:
    """`claims search-attributes --apply` (and the time-skipping server) registers each of ALL with
    its own type: the Int ones of the work queue included."""

    class Operator:
        def __init__(self) -> None:
            self.added: dict[str, int] = {}

        async def list_search_attributes(self, request: object) -> object:
            raise RPCError("the test server cannot list them", RPCStatusCode.UNIMPLEMENTED, b"")

        async def add_search_attributes(self, request: AddSearchAttributesRequest) -> None:
            self.added = dict(request.search_attributes)

    operator = Operator()

    class FakeClient:
        operator_service = operator

    names = await register(FakeClient(), "default")  # type: ignore[arg-type]  # only its operator service is used
    assert names == [key.name for key in sa.ALL] and set(operator.added) == set(names)
    assert operator.added[sa.WAIT_DUE.name] == IndexedValueType.INDEXED_VALUE_TYPE_INT
    assert operator.added[sa.HELD_BY.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


def test_every_type_can_be_named_when_the_namespace_is_checked() -> None:
    """`claims namespace --apply` waits until the frontend knows every attribute, naming each."""
    from client.namespace import naming_every_attribute

    query = naming_every_attribute()
    assert all(key.name in query for key in sa.ALL) and f"{sa.WAIT_DUE.name} = 0" in query
