"""`claims` (alias `premium-claims`): run the service, and report, read, list and drive claims.

    claims run                      dev server + UI + worker + HTTP API (what `make run` starts)
    claims worker                   the worker alone, against PREMIUM_CLAIMS_TEMPORAL_ADDRESS
    claims api                      the HTTP API alone (docs at /docs)
    claims migrate                  bring the stores' tables to this version (SQLite files or PostgreSQL)
    claims sms-relay                deliver the SMS outbox through the provider (any number, any host)
    claims load-policies FILE       load customers and policies into the core-system stand-in
    claims upload FILE              put a photo or document in the store, print its sha256
    claims report FILE              report a claim from a JSON report
    claims show REPORT_NO           the claim's state (tracks, waits, documents, payments)
    claims list [filters]           claims by stage, track, segment, branch, overdue, payment due
    claims ops [--json]             the operations counts (tracks by stage, overdue, due, breaches)
    claims step REPORT_NO TRACK STEP [JSON] [--by CODE]   record a human step on a track
    claims demo                     drive one claim of each track from report to callback
    claims sample-policies          fresh copies of the sample policies, each good for a first claim
    claims search-attributes        the commands that register the search attributes on a cluster
    claims namespace --apply        create the namespace on a cluster (retention) and its search attributes
    claims cluster up|down|status   the real Temporal cluster on PostgreSQL on this machine
    claims codec-server             the codec server the Temporal UI decodes claims through
    claims token --subject S --role R   a staff token for the HTTP API (local mode)

Output is a readable table; --json gives JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from cli import admin, claims, cluster, ops, relay, serve
from cli.command import Command
from cli.ports import PortInUse
from client.claims import ReportConflict, ReportRefused, TrackNotTaken, TrackUnavailable, refusal_message
from config.errors import field_errors
from config.logging import configure_logging
from config.settings import SettingsError, load_settings
from dev.cluster import ClusterError
from dev.gobuild import BuildError
from dev.postgres import PostgresError
from security.codec import CodecError

# Every command, in the order `claims --help` lists them; the handler runs with the settings, and
# one that needs Temporal connects after it has checked its input (cli/command.py).
TABLE: dict[str, Command] = {
    "run": serve.RUN,
    "worker": serve.WORKER,
    "api": serve.API,
    "migrate": admin.MIGRATE,
    "sms-relay": relay.SMS_RELAY,
    "load-policies": admin.LOAD_POLICIES,
    "load-core": admin.LOAD_POLICIES,
    "sample-policies": admin.SAMPLE_POLICIES,
    "upload": claims.UPLOAD,
    "report": claims.REPORT,
    "show": claims.SHOW,
    "list": claims.LIST,
    "step": claims.STEP,
    "demo": claims.DEMO,
    "codec-server": serve.CODEC_SERVER,
    "search-attributes": admin.SEARCH_ATTRIBUTES,
    "namespace": admin.NAMESPACE,
    "cluster": cluster.CLUSTER,
    "token": admin.TOKEN,
    "ops": ops.OPS,
}


def command_names() -> list[str]:
    """The commands `claims` knows, as typed on the command line."""
    return list(TABLE)


def build_parser(prog: str = "claims") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--settings", type=Path, help="settings TOML file")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in TABLE.items():
        command.add_to(sub, name)
    return parser


def main(argv: list[str] | None = None) -> None:
    prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "claims"
    args = build_parser(prog if prog in ("claims", "premium-claims") else "claims").parse_args(argv)

    try:
        settings = load_settings(args.settings)
    except (SettingsError, FileNotFoundError) as err:  # names the variable, never its value
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    configure_logging(settings.log_format, settings.log_level)
    error = None
    try:
        asyncio.run(TABLE[args.command].run(args, settings))
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader went away (`claims demo | head`): nothing more to say to it
        quiet_stdout()
    except WorkflowUpdateFailedError as err:
        error = f"refused: {refusal_message(err.cause)}"
    except (ReportConflict, ReportRefused, TrackNotTaken) as err:
        error = f"refused: {err}"
    except TrackUnavailable as err:  # the API's code and message (client/claims.py)
        error = f"{'refused' if err.code == 'track_closed' else 'not found'} ({err.code}): {err.message}"
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            error = f"not found: {err.message} (is the report number right, and does that track run?)"
        elif "search attribute" in err.message.lower():
            error = f"Temporal refused the call: {err.message} (register them: claims search-attributes --apply)"
        else:
            error = f"Temporal refused the call: {err.message}"
    except ValidationError as err:  # by field, never the value (a report's fields are personal data)
        error = f"invalid input ({err.title}): {field_errors(err.errors())}"
    except (
        ValueError,
        FileNotFoundError,
        CodecError,
        PortInUse,
        ClusterError,
        PostgresError,
        BuildError,
    ) as err:  # CodecError: names the missing key
        error = f"error: {err}"
    except RuntimeError as err:
        if "client connect" not in str(err):
            raise
        error = f"cannot reach Temporal at {settings.temporal_address} (is `claims run` or the cluster up?)"
    if error:
        print(error, file=sys.stderr)
    # The work is done (a worker has drained, output is written): leave without interpreter
    # finalization, where the SDK's native threads may still run while Python tears its modules
    # down. Seen once in CI: a worker that drained its payment cleanly then died of SIGSEGV (-11).
    logging.shutdown()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_stdout()
    sys.stderr.flush()
    os._exit(1 if error else 0)


def quiet_stdout() -> None:
    """Point stdout at /dev/null once its reader has closed the pipe, so no later write (nor
    the final flush) fails again: the command ends quietly, as `yes | head` does."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    main()
