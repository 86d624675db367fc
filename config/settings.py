"""One typed settings object, read once at process start from a TOML file and the environment.

Order (later wins): defaults → the settings file → environment variables. The file is the
one named by PREMIUM_CLAIMS_SETTINGS, else ./settings.toml if present. An environment variable
PREMIUM_CLAIMS_<NAME> sets a top-level setting; nested business rules use double underscores:
PREMIUM_CLAIMS_RULES__THRESHOLDS__SMALL_CLAIM_OWN_MAX=2500.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from config.errors import field_errors
from domain.models import CODE_PATTERN
from domain.rules import CalendarSettings, RuleSettings
from security.auth import AuthSettings
from security.codec import CodecSettings, load_keys
from security.customer_links import CustomerLinks, customer_links

ENV_PREFIX = "PREMIUM_CLAIMS_"
TASK_QUEUE = "premium-claims"  # the default task queue of the worker and of the clients that start claims
EMBEDDED_SQLITE_PRAGMAS = {"journal_mode": "wal", "synchronous": "normal"}
# what the dev server takes (its --sqlite-pragma list); values are words or numbers
SQLITE_PRAGMAS = frozenset({"journal_mode", "synchronous", "busy_timeout", "cache_size", "temp_store", "mmap_size"})
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class TemporalTLS(BaseModel):
    """How the connection to the Temporal frontend is secured: TLS (a CA), mTLS (a client
    certificate and key besides), as a secured self-hosted frontend or Temporal Cloud asks.
    Any file set turns TLS on; `enabled` alone trusts the system's roots."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    ca_file: Path | None = None  # the CA that signed the frontend's certificate; None: the system's roots
    cert_file: Path | None = None  # this client's certificate (mTLS)
    key_file: Path | None = None  # its private key
    server_name: str | None = None  # the name in the frontend's certificate, when the address says another

    @model_validator(mode="after")
    def _pair(self) -> TemporalTLS:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs its key and a key its certificate: set both cert_file and key_file")
        return self

    @property
    def on(self) -> bool:
        return self.enabled or any(f is not None for f in (self.ca_file, self.cert_file, self.key_file))

    def environment(self) -> dict[str, str]:
        """The variables that give another process these settings (PREMIUM_CLAIMS_TEMPORAL_TLS__…)."""
        return {
            f"{ENV_PREFIX}TEMPORAL_TLS__{key.upper()}": str(value)
            for key, value in self.model_dump(exclude_none=True, exclude_defaults=True).items()
        }


class ClusterSettings(BaseModel):
    """The real Temporal cluster on this machine (`claims cluster up`, dev/cluster.py): PostgreSQL
    and the server's services as separate processes, on loopback ports counted from `base_port`."""

    model_config = ConfigDict(extra="forbid")

    home: Path = PROJECT_ROOT / "data" / "cluster"  # PostgreSQL's folder, the services' logs and pids, certificates
    base_port: int = Field(default=7300, ge=1024, le=65000)  # frontend gRPC at base+33 (7333), PostgreSQL at base+32
    history_hosts: int = Field(default=2, ge=1, le=8)
    # Fixed when the cluster is first created (the history database keeps it): 16 shards spread
    # over up to 16 history hosts, far more than a branch's claims need on two.
    num_history_shards: int = Field(default=16, ge=1, le=16384)
    retention_days: int = Field(default=30, ge=1, le=3650)  # closed claims' histories kept this long
    mtls: bool = False  # the frontend asks every client for a certificate signed by the cluster's CA
    ui: bool = True  # the Web UI server (built from its Go module) at base+20 (7320)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temporal_address: str = "localhost:7233"
    temporal_tls: TemporalTLS = TemporalTLS()
    temporal_api_key: str | None = None  # sent as a bearer token (Temporal Cloud, a frontend with an authorizer)
    namespace: str = "default"
    task_queue: str = TASK_QUEUE
    data_dir: Path = PROJECT_ROOT / "data" / "run"
    sample_core_data: Path = PROJECT_ROOT / "data" / "sample" / "core.json"
    # Days the holidays package lacks (SPEC §6); re-read at every new claim, so no deploy is needed.
    calendar_overrides: Path = PROJECT_ROOT / "data" / "calendar_overrides.toml"
    dev_server_port: int = 7233
    # The embedded Temporal's SQLite file (`temporal server start-dev --sqlite-pragma`), chosen by
    # measurement (docs/capacity.md): a write-ahead log, synced at checkpoints rather than at every
    # commit. A process crash loses nothing; an OS crash or power cut can lose the last
    # transactions (never pay twice: the ledger's idempotency key). {} keeps SQLite's defaults.
    # Production runs the compose file's PostgreSQL instead.
    dev_server_sqlite_pragmas: dict[str, str] = Field(default_factory=lambda: dict(EMBEDDED_SQLITE_PRAGMAS))
    ui_port: int = 8233
    temporal_ui_url: str | None = None  # the UI as browsers reach it; None: http://localhost:<ui_port>
    # who takes the steps of `claims step` when neither the body nor --by says (their timeline's "by")
    staff_code: str | None = Field(default=None, pattern=CODE_PATTERN)
    log_format: Literal["console", "json"] = "console"
    log_level: str = "INFO"
    max_cached_workflows: int = Field(default=1000, ge=0)
    # long polls the worker keeps open on the task queue for workflow and for activity tasks
    workflow_task_pollers: int = Field(default=5, ge=1, le=100)
    activity_task_pollers: int = Field(default=5, ge=1, le=100)
    graceful_shutdown_seconds: float = Field(default=20, ge=0)
    rules: RuleSettings = RuleSettings()
    # Where the service's records live (docs/stores.md): unset, SQLite files under data_dir (one
    # host); postgresql://user:password@host:port/db, PostgreSQL shared by every worker and API
    # process (the core-system stand-in, the SMS outbox, the callback book). `claims migrate`
    # brings its tables to this version; each process keeps a pool of this many connections
    # (and max_overflow more at a peak).
    database_url: str | None = Field(default=None, pattern=r"^postgresql(\+psycopg)?://")
    database_pool_size: int = Field(default=5, ge=1, le=100)
    database_max_overflow: int = Field(default=5, ge=0, le=100)
    # Where photos and documents live (docs/stores.md): unset, files under data_dir/files (one
    # host); an S3-compatible endpoint (http://seaweedfs:8333), that bucket, shared by every host.
    # Objects are encrypted in the process with the payload key (codec), so a second host needs
    # the same codec keys. The access key pair comes from the environment or a secret store.
    object_store_endpoint: str | None = Field(default=None, pattern=r"^https?://")
    object_store_bucket: str = Field(default="premium-claims", pattern=r"^[a-z0-9][a-z0-9.-]{2,62}$")
    object_store_prefix: str = "documents/"
    object_store_region: str = "us-east-1"
    object_store_access_key_id: str | None = None
    object_store_secret_access_key: SecretStr | None = None
    object_store_create_bucket: bool = False  # create the bucket when missing (dev set-ups; production makes it)
    # The SMS relay (`claims sms-relay`, docs/stores.md): the provider's API, the phone on duty
    # for each recipient role (PREMIUM_CLAIMS_SMS_RECIPIENTS__INJURY_SPECIALIST=139…), the batch
    # it leases, how long a lease lasts, and the backoff between attempts until it gives up.
    sms_provider_url: str | None = Field(default=None, pattern=r"^https?://")
    sms_recipients: dict[str, str] = Field(default_factory=dict)
    sms_relay_batch: int = Field(default=20, ge=1, le=500)
    sms_relay_lease_seconds: float = Field(default=60, gt=0)
    sms_relay_max_attempts: int = Field(default=10, ge=1)
    sms_relay_first_backoff_seconds: float = Field(default=2, gt=0)
    sms_relay_max_backoff_seconds: float = Field(default=600, gt=0)
    sms_relay_heartbeat_file: Path | None = None  # touched after every round: a container's health check
    payment_gateway_url: str | None = None  # None: the embedded ledger, in-process
    payment_gateway_timeout_seconds: float = Field(default=20, gt=0)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # how long POST /claims waits for the claim's decision before answering 202 with the receipt
    report_answer_seconds: float = Field(default=5.0, gt=0, le=60)
    api_max_body_bytes: int = Field(default=64 * 1024, gt=0)  # JSON bodies; uploads: the store's limit
    api_rate_per_minute: float = Field(default=240, gt=0)  # per caller (token subject), sustained
    api_rate_burst: int = Field(default=60, ge=1)  # per caller, at once
    metrics_bind: str | None = "127.0.0.1:9464"  # the worker's Prometheus /metrics; empty: off
    auth: AuthSettings = AuthSettings()  # who may call the API and the codec server
    codec: CodecSettings = CodecSettings()  # payload encryption keys and the UI's codec server
    # the customer's link to their claim (issue 24, security/customer_links.py): the API's address
    # as customers' phones reach it (None: http://<api_host>:<api_port>), how long a link works, its key
    customer_link_url: str | None = None
    customer_link_days: int = Field(default=60, ge=1, le=366)
    customer_link_secret_file: Path | None = None  # None: <data_dir>/secrets/customer-link.key
    staff_directory: Path = PROJECT_ROOT / "data" / "sample" / "staff.json"  # staff names and work phones
    cluster: ClusterSettings = ClusterSettings()
    # `claims run --cluster` starts this many of each, as separate processes (APIs on api_port, +1, …)
    # Each process's share of the cluster's visibility limit (frontend.namespaceRPS.visibility,
    # 10/s per namespace per frontend): keep the sum over API processes, CLIs and drivers under it.
    # One API process alone: 8/s, 10 at once (the summary's ~50 calls in about 5 s); compose's
    # two API replicas take 4/s each (docker-compose.yml), as bench.viewers measured them.
    visibility_calls_per_second: float = Field(default=8, gt=0, le=1000)
    visibility_burst: int = Field(default=10, ge=1, le=1000)
    # the operations summary every viewer (of a branch) sees is computed at most this often
    operations_share_seconds: float = Field(default=30, ge=0, le=3600)
    run_workers: int = Field(default=1, ge=1, le=16)
    run_api_processes: int = Field(default=1, ge=1, le=16)

    @field_validator("database_url", "object_store_endpoint", "sms_provider_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, url: object) -> object:
        return None if url == "" else url  # PREMIUM_CLAIMS_DATABASE_URL= (compose's empty default): the embedded default

    @field_validator("dev_server_sqlite_pragmas")
    @classmethod
    def _known_pragmas(cls, pragmas: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(pragmas) - SQLITE_PRAGMAS)
        if unknown:
            raise ValueError(
                f"unknown SQLite pragma {', '.join(unknown)}; the dev server takes {', '.join(sorted(SQLITE_PRAGMAS))}"
            )
        bad = sorted(k for k, v in pragmas.items() if not re.fullmatch(r"[A-Za-z0-9_-]{1,20}", str(v)))
        if bad:
            raise ValueError(f"SQLite pragma {', '.join(bad)}: a value is a word or a number")
        return {k: str(v).lower() for k, v in pragmas.items()}

    @model_validator(mode="after")
    def _address_follows_the_dev_server(self) -> Settings:
        """Unset, the client's address is the dev server's port on this machine, so every `claims`
        command in a shell that moved `dev_server_port` talks to that server, not to :7233."""
        if "temporal_address" not in self.model_fields_set and "dev_server_port" in self.model_fields_set:
            self.temporal_address = f"localhost:{self.dev_server_port}"
        return self

    def ui_url(self) -> str:
        """The Temporal UI as staff's browsers reach it (the operations page and `claims ops` link into it)."""
        return self.temporal_ui_url or f"http://localhost:{self.ui_port}"

    def customer_links(self) -> CustomerLinks:
        return customer_links(self.data_dir, self.customer_link_secret_file, timedelta(days=self.customer_link_days))

    def customer_link_maker(self) -> Callable[[str], str]:
        """The whole link the customer's SMS carries, for a report number (the worker's SMS activity)."""
        links = self.customer_links()
        base = (self.customer_link_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")
        return lambda report_no: base + links.path(report_no)

    def payload_keyring(self) -> tuple[str, dict[str, bytes]]:
        """The codec's primary key ID and keyring: what encrypts documents in the object store."""
        return self.codec.primary_key_id, load_keys(self.codec, self.data_dir)

    def current_rules(self) -> RuleSettings:
        """The business rules with today's calendar overrides file applied."""
        calendar = load_calendar_overrides(self.calendar_overrides, self.rules.calendar)
        return self.rules.model_copy(update={"calendar": calendar})


def load_calendar_overrides(path: Path, base: CalendarSettings) -> CalendarSettings:
    """TOML with `extra_holidays = [2027-01-01, …]` and `extra_working_days = [2027-02-07, …]`."""
    if not path.exists():
        return base
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"extra_holidays", "extra_working_days"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    return CalendarSettings.model_validate(
        {
            **base.model_dump(),
            "extra_holidays": tuple(base.extra_holidays) + tuple(data.get("extra_holidays", ())),
            "extra_working_days": tuple(base.extra_working_days) + tuple(data.get("extra_working_days", ())),
        }
    )


class SettingsError(ValueError):
    """Settings that do not validate: each problem named by the variable (or file key) that set it."""


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    if path is None and environ.get(ENV_PREFIX + "SETTINGS"):
        path = Path(environ[ENV_PREFIX + "SETTINGS"])
    if path is None and Path("settings.toml").exists():
        path = Path("settings.toml")
    data: dict[str, Any] = {}
    if path is not None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    from_env: dict[tuple[str, ...], str] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == ENV_PREFIX + "SETTINGS":
            continue
        *parents, leaf = key[len(ENV_PREFIX) :].lower().split("__")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
        from_env[(*parents, leaf)] = key
    try:
        return Settings.model_validate(data)
    except ValidationError as err:

        def name(loc: tuple[Any, ...]) -> str:
            keys = tuple(str(p) for p in loc)
            for n in range(len(keys), 0, -1):  # the variable that set this value or its parent
                if keys[:n] in from_env:
                    return from_env[keys[:n]]
            inside = sorted(v for k, v in from_env.items() if k[: len(keys)] == keys)  # a group's check: its variables
            if inside:
                return ", ".join(inside)
            return f"{'.'.join(keys)} in {path}" if path else ENV_PREFIX + "__".join(keys).upper()

        raise SettingsError(f"settings: {field_errors(err.errors(), name)}") from None
