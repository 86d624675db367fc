"""Issue 24: the search attributes fit SQL visibility on PostgreSQL (Temporal's schema gives each
namespace Keyword 10, Bool/Datetime/Int/Double 3 each, Text 3, KeywordList 3 columns), and none
of the work queue's holds personal data: codes, a tier and claim-free years, and times only."""

from __future__ import annotations

from collections import Counter

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


def test_every_type_can_be_registered_on_a_cluster() -> None:
    """`claims search-attributes --apply` (and the time-skipping server) registers each type of ALL."""
    from client.search_attributes import _INDEXED

    assert {sa.cli_type(key) for key in sa.ALL} <= set(_INDEXED)


def test_every_type_can_be_named_when_the_namespace_is_checked() -> None:
    """`claims namespace --apply` waits until the frontend knows every attribute, naming each."""
    from client.namespace import naming_every_attribute

    query = naming_every_attribute()
    assert all(key.name in query for key in sa.ALL) and f"{sa.WAIT_DUE.name} = 0" in query
