"""A real Temporal cluster on this machine: PostgreSQL in a folder of its own, both schemas brought
to the release's versioned schema by `temporal-sql-tool`, and the server's services as separate
processes (frontend, N history hosts sharing the shards through membership, matching, the
internal worker), then the namespace with its retention and the claim's search attributes.

It runs what docker-compose.yml runs: the same release (dev/gobuild.py), the release's own
templated config (`config/docker.yaml`, rendered by the server from the environment as the
`temporalio/server` image renders it), the same environment variables (`server_environment`), the
same dynamic config and schema script (deploy/temporal/), and the same namespace job
(`claims namespace --apply`, client/namespace.py). tests/deploy checks they agree.

Every process outlives `claims cluster up`; its pid and log are in the cluster's folder, so
`status` and `down` find them, and a second `up` reuses whatever still runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from client.connect import connect_with_settings
from client.namespace import set_up
from config.settings import PROJECT_ROOT, ClusterSettings, Settings, TemporalTLS
from dev import certs as cluster_certs
from dev.gobuild import TemporalBuild, ensure_built, ensure_ui_built
from dev.postgres import Postgres, ensure_started, log_tail, port_free

DEPLOY = PROJECT_ROOT / "deploy" / "temporal"
DYNAMIC_CONFIG = DEPLOY / "dynamicconfig.yaml"
SETUP_SCHEMA = DEPLOY / "setup-schema.sh"

Say = Callable[[str], None]


class ClusterError(RuntimeError):
    """The cluster cannot come up: a port is taken, a service died at start, … (the message says)."""


@dataclass(frozen=True)
class Service:
    """One server process: `role` is the Temporal service it runs (history hosts share a role)."""

    name: str  # frontend, history-1, history-2, matching, worker
    role: str
    grpc_port: int
    membership_port: int
    metrics_port: int
    http_port: int | None = None  # the frontend's HTTP API


@dataclass(frozen=True)
class Layout:
    """Every port of the cluster, counted from the settings' base port (default 7300):
    PostgreSQL base+32, frontend gRPC base+33 (7333) and HTTP base+43, matching base+35, the
    internal worker base+39, history host i base+60+i; membership ports base+1…, metrics base+80…"""

    base: int
    history_hosts: int

    @property
    def postgres(self) -> int:
        return self.base + 32

    @property
    def ui(self) -> int:
        return self.base + 20

    @property
    def frontend_address(self) -> str:
        return f"127.0.0.1:{self.base + 33}"

    def services(self) -> list[Service]:
        b = self.base
        found = [
            Service("frontend", "frontend", b + 33, b + 1, b + 80, http_port=b + 43),
            *(Service(f"history-{i}", "history", b + 60 + i, b + 10 + i, b + 90 + i) for i in range(1, self.history_hosts + 1)),
            Service("matching", "matching", b + 35, b + 5, b + 85),
            Service("worker", "worker", b + 39, b + 9, b + 89),
        ]
        return found

    def service(self, name: str) -> Service:
        for service in self.services():
            if service.name == name:
                return service
        raise ClusterError(f"no service {name!r}: the cluster runs {', '.join(s.name for s in self.services())}")


def free_base_port(first: int = 7500, last: int = 9900, history_hosts: int = 2) -> int:
    """A base port (in hundreds) whose every port of a cluster is free on this machine: for the
    test lane and the benchmarks, which must not meet a cluster or a server left running."""
    for base in range(first, last, 100):
        layout = Layout(base, history_hosts)
        ports = [
            layout.postgres,
            layout.ui,
            *(p for s in layout.services() for p in (s.grpc_port, s.membership_port, s.metrics_port)),
        ]
        if all(port_free(p) for p in ports):
            return base
    raise ClusterError(f"no free ports for a cluster between {first} and {last}")


def server_environment(
    postgres: Postgres,
    shards: int,
    service: Service,
    tls: cluster_certs.ClusterCerts | None,
    dynamic_config: Path = DYNAMIC_CONFIG,
) -> dict[str, str]:
    """The variables the release's config/docker.yaml reads: the ones docker-compose.yml's
    Temporal services set, with this machine's addresses and this service's ports."""
    env = {
        "DB": "postgres12",
        "DB_PORT": str(postgres.port),
        "VISIBILITY_DB_PORT": str(postgres.port),
        "POSTGRES_SEEDS": postgres.host,
        "POSTGRES_USER": postgres.user,
        "POSTGRES_PWD": postgres.password,
        "DBNAME": "temporal",
        "VISIBILITY_DBNAME": "temporal_visibility",
        "NUM_HISTORY_SHARDS": str(shards),
        "DYNAMIC_CONFIG_FILE_PATH": str(dynamic_config),
        "BIND_ON_IP": "127.0.0.1",
        "TEMPORAL_BROADCAST_ADDRESS": "127.0.0.1",
        "LOG_LEVEL": "warn",
        "PROMETHEUS_ENDPOINT": f"127.0.0.1:{service.metrics_port}",
        f"{service.role.upper()}_GRPC_PORT": str(service.grpc_port),
        f"{service.role.upper()}_MEMBERSHIP_PORT": str(service.membership_port),
    }
    if service.http_port is not None:
        env["FRONTEND_HTTP_PORT"] = str(service.http_port)
    if tls is not None:
        env.update(tls_environment(tls))
    return env


def tls_environment(tls: cluster_certs.ClusterCerts) -> dict[str, str]:
    """mTLS on the frontend and between the services: one CA, the cluster's certificate."""
    return {
        "TEMPORAL_TLS_REQUIRE_CLIENT_AUTH": "true",
        "TEMPORAL_TLS_SERVER_CERT": str(tls.server_cert),
        "TEMPORAL_TLS_SERVER_KEY": str(tls.server_key),
        "TEMPORAL_TLS_SERVER_CA_CERT": str(tls.ca),
        "TEMPORAL_TLS_FRONTEND_CERT": str(tls.server_cert),
        "TEMPORAL_TLS_FRONTEND_KEY": str(tls.server_key),
        "TEMPORAL_TLS_CLIENT1_CA_CERT": str(tls.ca),
        "TEMPORAL_TLS_CLIENT2_CA_CERT": str(tls.ca),
        "TEMPORAL_TLS_INTERNODE_SERVER_NAME": cluster_certs.SERVER_NAME,
        "TEMPORAL_TLS_FRONTEND_SERVER_NAME": cluster_certs.SERVER_NAME,
    }


def ui_config(cluster: Cluster, settings: Settings) -> str:
    """The UI server's configuration: the frontend (with mTLS, the service's certificate), the
    codec server staff's browsers decode claims through, and who may call it (CORS)."""
    certs = cluster.certs
    tls = ""
    if certs is not None:
        tls = (
            f"tls:\n  caFile: {certs.ca}\n  certFile: {certs.client_cert}\n  keyFile: {certs.client_key}\n"
            f"  serverName: {cluster_certs.SERVER_NAME}\n  enableHostVerification: true\n"
        )
    origins = settings.temporal_ui_url or cluster.ui_url
    return (
        f"temporalGrpcAddress: {cluster.address}\nport: {cluster.layout.ui}\nenableUi: true\n"
        f"defaultNamespace: {settings.namespace}\ncors:\n  allowOrigins:\n    - {origins}\n"
        f"codec:\n  endpoint: {settings.codec.endpoint()}\n  includeCredentials: true\n{tls}"
    )


def schema_environment(postgres: Postgres, build: TemporalBuild) -> dict[str, str]:
    """What deploy/temporal/setup-schema.sh reads (docker-compose.yml's temporal-schema job sets the same)."""
    return {
        "SQL_PLUGIN": "postgres12",
        "SQL_HOST": postgres.host,
        "SQL_PORT": str(postgres.port),
        "SQL_USER": postgres.user,
        "SQL_PASSWORD": postgres.password,
        "TEMPORAL_SQL_TOOL": str(build.sql_tool),
        "SCHEMA_DIR": str(build.schema_dir),
    }


class Cluster:
    """The cluster the settings describe; `up`, `down`, `status`, and the fault runs' `kill`/`start`."""

    def __init__(self, settings: ClusterSettings, say: Say = print) -> None:
        self.settings = settings
        self.home = settings.home.resolve()
        self.layout = Layout(settings.base_port, settings.history_hosts)
        self.say = say

    # --- where things are ------------------------------------------------------------------
    @property
    def address(self) -> str:
        return self.layout.frontend_address

    @property
    def postgres(self) -> Postgres:
        return Postgres(self.home / "postgres", self.layout.postgres)

    @property
    def certs(self) -> cluster_certs.ClusterCerts | None:
        return cluster_certs.ClusterCerts(self.home / "tls") if self.settings.mtls else None

    def client_tls(self) -> TemporalTLS:
        """What a client of this cluster sets (PREMIUM_CLAIMS_TEMPORAL_TLS__…)."""
        certs = self.certs
        if certs is None:
            return TemporalTLS()
        return TemporalTLS(
            ca_file=certs.ca, cert_file=certs.client_cert, key_file=certs.client_key, server_name=cluster_certs.SERVER_NAME
        )

    def client_settings(self, settings: Settings) -> Settings:
        """`settings` pointed at this cluster: its address and, with mTLS, its certificates."""
        return settings.model_copy(update={"temporal_address": self.address, "temporal_tls": self.client_tls()})

    def _pid_file(self, name: str) -> Path:
        return self.home / "run" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.home / "logs" / f"{name}.log"

    def pid(self, name: str) -> int | None:
        """The pid of the service's process when it runs."""
        try:
            pid = int(self._pid_file(name).read_text())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        try:  # a reused pid is another program
            if b"/temporal-" not in Path(f"/proc/{pid}/cmdline").read_bytes():  # temporal-server, temporal-ui-server
                return None
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return None
        except OSError:
            return None
        return pid

    # --- up ----------------------------------------------------------------------------------
    def up(self, settings: Settings) -> None:
        """Everything, idempotent: what runs is kept, what is missing is made or started."""
        started = time.monotonic()
        build = ensure_built(say=self.say)
        self.home.mkdir(parents=True, exist_ok=True)
        self.home.chmod(0o711)  # PostgreSQL's account passes through to its own folder
        for folder in ("run", "logs"):
            (self.home / folder).mkdir(exist_ok=True)
        postgres = ensure_started(self.home / "postgres", self.layout.postgres, self.say)
        self.set_up_schema(postgres, build)
        tls = cluster_certs.ensure(self.home / "tls") if self.settings.mtls else None
        # One after the other: each service writes the cluster's metadata row as it starts, and
        # two at once race for it (a version mismatch that stops the loser).
        for service in self.layout.services():
            self.start(service.name, build=build, postgres=postgres, tls=tls)
        asyncio.run(self.set_up_namespace(settings))
        if self.settings.ui:
            self.start_ui(settings)
        self.say(f"cluster up in {time.monotonic() - started:.1f} s: frontend {self.address}" + (" (mTLS)" if tls else ""))

    def set_up_schema(self, postgres: Postgres, build: TemporalBuild) -> None:
        self.say("schemas: temporal, temporal_visibility (temporal-sql-tool, deploy/temporal/setup-schema.sh)")
        done = subprocess.run(
            ["sh", str(SETUP_SCHEMA)],
            env={**os.environ, **schema_environment(postgres, build)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            raise ClusterError(f"the schema set-up failed:\n{done.stdout}{done.stderr}")

    def start(
        self,
        name: str,
        *,
        build: TemporalBuild | None = None,
        postgres: Postgres | None = None,
        tls: cluster_certs.ClusterCerts | None = None,
        wait: bool = True,
    ) -> int:
        """Start one service unless it runs; its pid. With `wait`, until it has joined (its
        membership port listens: the internal worker serves no gRPC)."""
        service = self.layout.service(name)
        running = self.pid(name)
        if running is not None:
            return running
        for port in (service.grpc_port, service.membership_port, service.metrics_port, service.http_port):
            if port is not None and not port_free(port):
                raise ClusterError(
                    f"port {port} ({service.name}) is in use by another program: stop it, or move the cluster "
                    "with PREMIUM_CLAIMS_CLUSTER__BASE_PORT"
                )
        build = build or ensure_built(say=self.say)
        postgres = postgres or self.postgres
        if tls is None and self.settings.mtls:
            tls = cluster_certs.ensure(self.home / "tls")
        env = {**os.environ, **server_environment(postgres, self.settings.num_history_shards, service, tls)}
        command = [
            str(build.server),
            "--root",
            str(build.module),
            "--config",
            "config",
            "--env",
            "docker",
            "--allow-no-auth",
            "start",
            "--service",
            service.role,
        ]
        with open(self.log_file(name), "ab") as log:
            process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self._pid_file(name).write_text(str(process.pid))
        self.say(f"started {name} (pid {process.pid}, membership 127.0.0.1:{service.membership_port})")
        if wait:
            self.wait_serving(service, process)
        return process.pid

    def wait_serving(self, service: Service, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not _listening(service.membership_port):
            if process.poll() is not None:
                log = self.log_file(service.name)
                raise ClusterError(f"{service.name} stopped at start; its log {log}:\n{log_tail(log)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"{service.name} did not join within {timeout:.0f} s; log {self.log_file(service.name)}")
            time.sleep(0.2)

    async def set_up_namespace(self, settings: Settings) -> None:
        """The namespace job, as compose runs it: client/namespace.set_up over the service's own connection."""
        target = self.client_settings(settings)
        deadline = time.monotonic() + 120
        while True:  # the frontend listens before it serves: it waits for membership and the history hosts
            try:
                client = await connect_with_settings(target)
                break
            except RuntimeError as err:
                if time.monotonic() > deadline:
                    raise ClusterError(f"the frontend at {self.address} did not answer within 120 s: {err}") from err
                await asyncio.sleep(1.0)
        done = await set_up(client, target.namespace, timedelta(days=self.settings.retention_days))
        what = "created" if done.created else ("retention changed" if done.retention_changed else "already there")
        added = f"; search attributes added: {', '.join(done.added)}" if done.added else "; search attributes all there"
        self.say(f"namespace {target.namespace} ({self.settings.retention_days} days' retention): {what}{added}")

    # --- down, status, faults --------------------------------------------------------------
    def kill(self, name: str, sig: int = signal.SIGKILL) -> int | None:
        """Signal one service (SIGKILL: a host that dies); its pid, or None when it did not run."""
        pid = self.pid(name)
        if pid is not None:
            os.kill(pid, sig)
        return pid

    def stop(self, name: str, timeout: float = 20) -> None:
        pid = self.kill(name, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid is not None and self.pid(name) is not None:
            if time.monotonic() > deadline:
                self.kill(name, signal.SIGKILL)
                break
            time.sleep(0.2)
        self._pid_file(name).unlink(missing_ok=True)

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.ui}"

    def start_ui(self, settings: Settings) -> int:
        """The Web UI server (built from its Go module) against the frontend, decoding claims
        through the settings' codec server, reaching the frontend with the service's certificate."""
        running = self.pid("ui")
        if running is not None:
            return running
        binary = ensure_ui_built(say=self.say)
        if not port_free(self.layout.ui):
            raise ClusterError(
                f"port {self.layout.ui} (the Web UI) is in use: move the cluster with PREMIUM_CLAIMS_CLUSTER__BASE_PORT"
            )
        folder = self.home / "ui" / "config"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cluster.yaml").write_text(ui_config(self, settings))
        with open(self.log_file("ui"), "ab") as log:
            process = subprocess.Popen(
                [str(binary), "--root", str(self.home / "ui"), "--config", "config", "--env", "cluster", "start"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pid_file("ui").write_text(str(process.pid))
        deadline = time.monotonic() + 60
        while not _listening(self.layout.ui):
            if process.poll() is not None:
                raise ClusterError(
                    f"the Web UI stopped at start; its log {self.log_file('ui')}:\n{log_tail(self.log_file('ui'))}"
                )
            if time.monotonic() > deadline:
                raise ClusterError(f"the Web UI did not listen on {self.layout.ui} within 60 s")
            time.sleep(0.2)
        self.say(f"Web UI {self.ui_url} (pid {process.pid})")
        return process.pid

    def down(self) -> None:
        """Stop the UI and the services (the internal worker and frontend first), then PostgreSQL. Data is kept."""
        self.stop("ui")
        for service in reversed(self.layout.services()):
            if self.pid(service.name) is not None:
                self.say(f"stopping {service.name}")
            self.stop(service.name)
        if self.postgres.pgdata.exists() and self.postgres.is_running():
            self.say("stopping PostgreSQL")
            self.postgres.stop()

    def status(self) -> list[tuple[str, str]]:
        """(what, state) per process: PostgreSQL first, then each service."""
        rows = []
        pg = self.postgres
        pg_port = pg.running_port() if pg.pgdata.exists() else None
        rows.append(("postgresql", f"running on 127.0.0.1:{pg_port}" if pg_port else "stopped"))
        for service in self.layout.services():
            pid = self.pid(service.name)
            state = f"running (pid {pid}) on 127.0.0.1:{service.grpc_port}" if pid else "stopped"
            rows.append((service.name, state))
        if self.settings.ui:
            pid = self.pid("ui")
            rows.append(("ui", f"running (pid {pid}) at {self.ui_url}" if pid else "stopped"))
        return rows


def _listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0
