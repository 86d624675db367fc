"""What a `claims` command says when its input or its settings do not validate: what is wrong,
by field, never the value (it may be personal data) and never pydantic's internals."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic_core import ErrorDetails

# What pydantic puts before a validator's own message: people read the message alone.
_PREFIXES = ("Value error, ", "Assertion failed, ")

# A time people type (a filter, a period): with its offset, so it means one instant (a date alone,
# or a time without an offset, would be read in whichever zone the server happens to run in).
TIME_WITH_OFFSET = "a time with its offset, e.g. 2026-12-01T00:00:00+08:00"
# pydantic's error types for a time that is not one, or not one with an offset
_TIME_ERRORS = frozenset({"timezone_aware", "datetime_parsing", "datetime_from_date_parsing", "datetime_type"})


def error_message(error: ErrorDetails | dict[str, Any]) -> str:
    """What is wrong with one field, for people: pydantic's message without its prefix, or, for a
    time, the format it must have."""
    if error.get("type") in _TIME_ERRORS:
        return f"must be {TIME_WITH_OFFSET}"
    return plain_message(str(error.get("msg", "invalid")))


def plain_message(message: str) -> str:
    """A pydantic error message without pydantic's prefix."""
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return message


def field_errors(errors: Iterable[ErrorDetails], name: Callable[[tuple[Any, ...]], str] | None = None) -> str:
    """pydantic's `errors()` as one line: `field: what is wrong; …`. `name` turns a location into
    what the user typed (a settings variable); by default the dotted field path."""
    parts = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        where = name(loc) if name else ".".join(str(p) for p in loc)
        message = error_message(error)
        if error.get("type") == "extra_forbidden":
            message = "no such setting" if name else "not a field of this record"
        parts.append(f"{where or 'the input'}: {message}")
    return "; ".join(parts) or "invalid input"
