"""One `claims` command: its line in `claims --help`, its arguments and its handler. cli/main.py
holds the table of them (name to command), in the order the help lists them."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
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
