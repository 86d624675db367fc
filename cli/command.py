"""One `claims` command: its line in `claims --help`, its arguments and its handler. cli/main.py
holds the table of them (name to command), in the order the help lists them."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client

from client.connect import connect_with_settings
from config.errors import TIME_WITH_OFFSET
from config.settings import Settings

# Every handler gets the parsed arguments and the settings; one that needs Temporal gets a client
# through `with_client` (or connects itself, after checking its input, as `claims report` does).
Handler = Callable[[argparse.Namespace, Settings], Coroutine[Any, Any, None]]  # a coroutine: main() asyncio.run()s it
ClientHandler = Callable[[argparse.Namespace, Settings, Client], Coroutine[Any, Any, None]]


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """For a command that takes no arguments of its own."""


@dataclass(frozen=True)
class Command:
    help: str
    run: Handler
    arguments: Callable[[argparse.ArgumentParser], None] = no_arguments
    epilog: str | None = None  # printed as written, line breaks kept

    def add_to(self, sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> None:
        """Add the command's subparser as `name` (two names may share a command)."""
        formatter = argparse.RawDescriptionHelpFormatter if self.epilog is not None else argparse.HelpFormatter
        self.arguments(sub.add_parser(name, help=self.help, epilog=self.epilog, formatter_class=formatter))


def with_client(handler: ClientHandler) -> Handler:
    """A handler that connects to Temporal first and hands the client on."""

    async def connected(args: argparse.Namespace, settings: Settings) -> None:
        await handler(args, settings, await connect_with_settings(settings))

    return connected


def time_with_offset(text: str) -> datetime:
    """An option's time (argparse `type`): ISO 8601 with its offset, else argparse's plain error
    naming the option (`argument --payment-due-before: must be a time with its offset, e.g. …`)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"must be {TIME_WITH_OFFSET}")
    return at


class InputError(ValueError):
    """A command's input (a file, a JSON argument) that cannot be read: what and where, plainly."""


def read_input(path: Path) -> bytes:
    """A file a command was given, or InputError naming it and what is wrong (never an errno)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: not allowed to read it") from None
    except OSError as err:
        raise InputError(f"{path}: cannot be read ({err.strerror or type(err).__name__})") from None


def parse_json(text: str | bytes, what: str) -> Any:
    """JSON, or InputError saying `what` is not valid JSON and where (line, column), never the text."""
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        raise InputError(f"{what}: not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{what}: not valid JSON ({err.msg.lower()} at line {err.lineno} column {err.colno})") from None


def read_json_file(path: Path) -> bytes:
    """A JSON file's bytes, checked to be JSON (the caller validates them against its model)."""
    data = read_input(path)
    parse_json(data, str(path))
    return data
