"""What a `claims` command says when its input or its settings do not validate: what is wrong,
by field, never the value (it may be personal data) and never pydantic's internals."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic_core import ErrorDetails

# What pydantic puts before a validator's own message: people read the message alone.
_PREFIXES = ("Value error, ", "Assertion failed, ")


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
        message = plain_message(str(error.get("msg", "invalid")))
        if error.get("type") == "extra_forbidden":
            message = "no such setting" if name else "not a field of this record"
        parts.append(f"{where or 'the input'}: {message}")
    return "; ".join(parts) or "invalid input"
