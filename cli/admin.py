"""Setting a place up: `claims load-policies` (alias `load-core`), `claims sample-policies`,
`claims search-attributes` and `claims token`."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from activities import migrate, open_stores
from activities.core_system import CoreData
from cli.command import Command, read_json_file
from cli.show import china
from client.connect import connect_with_settings
from client.namespace import set_up
from client.search_attributes import operator_commands, register
from config.settings import Settings
from dev import scenarios
from domain.models import BRANCH_PATTERN, CODE_RULE, Track, is_code
from security.auth import Role, local_tokens


def load_core(settings: Settings, path: Path) -> None:
    records = CoreData.model_validate_json(read_json_file(path))  # checked before the store is opened
    stats = open_stores(settings).core.load(records)
    print(f"loaded {path}: {stats.model_dump()}")


def cmd_sample_policies(settings: Settings, prefix: str, count: int, tracks: list[Track], load: bool) -> None:
    """`count` fresh copies of the sample policies (dev.scenarios.fresh_policies), printed as a
    core-system file or loaded."""
    if not 0 < count <= 10_000:
        raise ValueError("--count must be between 1 and 10000")
    chosen = [tracks[i % len(tracks)] for i in range(count)]
    core = scenarios.fresh_policies(
        scenarios.load_sample_core(settings.sample_core_data), chosen, prefix, datetime.now(UTC).date()
    )
    if not load:
        print(core.model_dump_json(indent=2))
        return
    stats = open_stores(settings).core.load(core)
    for track, policy in zip(chosen, core.policies, strict=True):
        print(f"{policy.policy_no}  track {track.value} (a copy of sample {scenarios.SAMPLE_POLICIES[track]})")
    print(f"loaded: {stats.model_dump()}")


async def cmd_search_attributes(settings: Settings, apply: bool) -> None:
    if not apply:
        print("# Register the claim's search attributes on a cluster, once per namespace:")
        for command in operator_commands(settings.namespace, settings.temporal_address):
            print(command)
        return
    client = await connect_with_settings(settings)
    added = await register(client, settings.namespace)
    print(f"added: {', '.join(added)}" if added else "all search attributes were already registered")


async def cmd_namespace(settings: Settings, retention_days: int) -> None:
    """The namespace with its retention and the claim's search attributes (client/namespace.py)."""
    if not 1 <= retention_days <= 3650:
        raise ValueError("--retention-days must be between 1 and 3650")
    client = await connect_with_settings(settings)
    done = await set_up(client, settings.namespace, timedelta(days=retention_days))
    state = "created" if done.created else ("retention changed" if done.retention_changed else "already there")
    print(f"namespace {settings.namespace} ({retention_days} days' retention): {state}")
    print(f"search attributes added: {', '.join(done.added)}" if done.added else "search attributes: all were already registered")


def cmd_token(settings: Settings, subject: str, roles: list[Role], ttl_minutes: int | None, branch: str | None = None) -> None:
    """Print a signed staff token (stdout: the token alone, for TOKEN=$(claims token …))."""
    if settings.auth.mode != "local":
        raise ValueError(
            f"auth.mode is {settings.auth.mode!r}: staff tokens come from the identity provider "
            f"({settings.auth.oidc_issuer or 'auth.oidc_issuer'}); `claims token` issues tokens in local mode only"
        )
    if not is_code(subject):
        raise ValueError(f"--subject must be a staff code: {CODE_RULE} (steps are recorded by it)")
    if ttl_minutes is not None and not 0 < ttl_minutes <= 7 * 24 * 60:
        raise ValueError("--ttl-minutes must be between 1 and 10080 (7 days)")
    ttl = timedelta(minutes=ttl_minutes or settings.auth.token_ttl_minutes)
    if branch is not None and not re.fullmatch(BRANCH_PATTERN, branch):
        raise ValueError("--branch must be a branch code: letters, digits, _ . -, up to 20")
    token = local_tokens(settings.auth, settings.data_dir).issue(subject, set(roles), ttl, branch=branch)
    expires = f"{china(datetime.now(UTC) + ttl)} China time"  # as `claims show` reads its times
    print(f"token for {subject} ({', '.join(sorted(r.value for r in roles))}), expires {expires}", file=sys.stderr)
    print(token)


# --- the commands -------------------------------------------------------------------------------
def load_policies_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path)


async def run_load_policies(args: argparse.Namespace, settings: Settings) -> None:
    load_core(settings, args.file)


LOAD_POLICIES = Command(
    help="load customers and policies (shape: data/sample/core.json)",
    run=run_load_policies,
    arguments=load_policies_arguments,
)


def sample_policies_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prefix", required=True, help="numbers <prefix>C000000 (customers) and <prefix>P000000 (policies)")
    parser.add_argument("--count", type=int, default=4, help="how many (default 4)")
    parser.add_argument(
        "--track",
        choices=[t.value for t in Track],
        action="append",
        help="the track each is a copy for, repeat to mix (default A, B, C, D in turn)",
    )
    parser.add_argument("--load", action="store_true", help="load them now (else print the file, shape data/sample/core.json)")


async def run_sample_policies(args: argparse.Namespace, settings: Settings) -> None:
    cmd_sample_policies(settings, args.prefix, args.count, [Track(t) for t in args.track or Track], args.load)


SAMPLE_POLICIES = Command(
    help="fresh copies of the sample policies, each good for a first claim (R-EL-1.2)",
    run=run_sample_policies,
    arguments=sample_policies_arguments,
)


def search_attributes_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--apply", action="store_true", help="register them now (else print the commands)")


async def run_search_attributes(args: argparse.Namespace, settings: Settings) -> None:
    await cmd_search_attributes(settings, args.apply)


SEARCH_ATTRIBUTES = Command(
    help="register the search attributes on a cluster",
    run=run_search_attributes,
    arguments=search_attributes_arguments,
)


async def run_migrate(args: argparse.Namespace, settings: Settings) -> None:
    where = "PostgreSQL" if settings.database_url else f"SQLite files under {settings.data_dir}"
    for store, version in migrate(settings).items():
        print(f"{store:<10} {version}  ({where})")


MIGRATE = Command(
    help="bring the stores' tables to this version (PREMIUM_CLAIMS_DATABASE_URL, else the SQLite files)",
    run=run_migrate,
    epilog="Run it once before a new version's workers and API processes start (they also check at start).",
)


def namespace_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--apply", action="store_true", required=True, help="create or update it now")
    parser.add_argument(
        "--retention-days", type=int, help="how long closed claims' histories are kept (default: cluster.retention_days)"
    )


async def run_namespace(args: argparse.Namespace, settings: Settings) -> None:
    await cmd_namespace(settings, args.retention_days or settings.cluster.retention_days)


NAMESPACE = Command(
    help="create the namespace on a cluster with its retention, and register the search attributes",
    run=run_namespace,
    arguments=namespace_arguments,
)


def token_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--subject", required=True, help="the staff code; steps are recorded as done by it")
    parser.add_argument(
        "--role",
        choices=[r.value for r in Role],
        metavar="ROLE",
        action="append",
        required=True,
        help=f"repeat for several: {', '.join(r.value for r in Role)}",
    )
    parser.add_argument("--ttl-minutes", type=int, help="lifetime (default: auth.token_ttl_minutes)")
    parser.add_argument("--branch", help="the staff's branch: their work queue shows its claims only (default: every branch)")


async def run_token(args: argparse.Namespace, settings: Settings) -> None:
    cmd_token(settings, args.subject, [Role(r) for r in args.role], args.ttl_minutes, args.branch)


TOKEN = Command(help="a staff token for the HTTP API (local mode)", run=run_token, arguments=token_arguments)
