"""The process's log as configure_logging sets it up, written to a string for a test to read,
with the root logger's handlers and structlog's set-up restored afterwards."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from config.logging import configure_logging


@contextmanager
def captured_log(fmt: str = "console", level: str = "INFO") -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    handlers, previous_level = list(root.handlers), root.level
    for handler in handlers:
        root.removeHandler(handler)
    try:
        configure_logging(fmt, level, stream=stream)
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(previous_level)
        structlog.reset_defaults()
