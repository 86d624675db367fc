"""Issue 21.6: the claim's search attributes fit the custom columns SQL visibility has on
PostgreSQL (Keyword 10; Bool, Datetime, Double, Int, Text, KeywordList 3 each, per namespace)."""

from __future__ import annotations

import re

import pytest
from temporalio.common import SearchAttributeKey

from dev.gobuild import TEMPORAL_SERVER_VERSION
from workflows.search_attributes import ALL, SQL_VISIBILITY_COLUMNS, cli_type, columns_left

pytestmark = pytest.mark.unit


def test_every_type_fits_its_postgresql_columns() -> None:
    left = columns_left(ALL)
    assert all(n >= 0 for n in left.values()), left
    assert set(SQL_VISIBILITY_COLUMNS) >= {cli_type(k) for k in ALL}


def test_one_attribute_too_many_is_counted_as_over() -> None:
    """The count can fail: filling Datetime (3 of 3 today) one past its columns shows -1."""
    used = sum(1 for k in ALL if cli_type(k) == "Datetime")
    extra = [SearchAttributeKey.for_datetime(f"Extra{i}") for i in range(SQL_VISIBILITY_COLUMNS["Datetime"] - used + 1)]
    assert columns_left((*ALL, *extra))["Datetime"] == -1


def test_the_caps_are_the_release_schema() -> None:
    """The numbers above are the server release's own schema, read from its module when Go has it."""
    from dev.gobuild import BuildError, go_binary, module_dir

    try:
        schema = module_dir(go_binary(), TEMPORAL_SERVER_VERSION) / "schema/postgresql/v12/visibility/schema.sql"
    except BuildError as err:
        pytest.skip(f"no Go here to read the release's schema: {err}")
    columns = re.findall(r"^\s+(Bool|Datetime|Double|Int|KeywordList|Keyword|Text)(\d\d)\s", schema.read_text(), re.M)
    counted: dict[str, int] = {}
    for kind, _ in columns:
        counted[kind] = counted.get(kind, 0) + 1
    assert counted == SQL_VISIBILITY_COLUMNS
