"""The Temporal server of the cluster on this machine, built from its Go module with `go install`
of one exact release and kept in a cache folder between runs (and between checkouts).

The first build compiles about a thousand packages (minutes on two cores; progress is shown);
after that the binaries are reused at once. Nothing is downloaded but the module and its
dependencies, through the Go module proxy. The same release is the image tag docker-compose.yml
runs (a test keeps them equal).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TEMPORAL_SERVER_VERSION = "v1.29.1"  # docker-compose.yml's temporalio/server and admin-tools tags follow it
SERVER_MODULE = "go.temporal.io/server"
# binary name -> package in the module (go install names a binary after its folder)
PACKAGES = {"temporal-server": "cmd/server", "temporal-sql-tool": "cmd/tools/sql"}
# The Web UI's server, with the UI's built assets embedded in its module; compose's temporalio/ui tag follows it.
UI_SERVER_VERSION = "v2.34.0"
UI_MODULE = "github.com/temporalio/ui-server/v2"
GO_MIN = (1, 25)  # the release's go.mod
CACHE_ENV = "PREMIUM_CLAIMS_CACHE"


class BuildError(RuntimeError):
    """Go is missing or too old, or the build failed: the message says which and what to do."""


@dataclass(frozen=True)
class TemporalBuild:
    version: str
    server: Path  # temporal-server
    sql_tool: Path  # temporal-sql-tool
    module: Path  # the module's source: schema/ (the versioned SQL) and config/ (docker.yaml)

    @property
    def schema_dir(self) -> Path:
        return self.module / "schema"


def cache_dir() -> Path:
    """Where builds are kept: $PREMIUM_CLAIMS_CACHE, else ~/.cache/premium-claims."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "premium-claims")


GO_FALLBACK = Path("/usr/local/go/bin/go")  # where Go's own installer puts it, when PATH lacks it


def go_binary() -> str:
    go = shutil.which("go") or (str(GO_FALLBACK) if GO_FALLBACK.exists() else None)
    if not go:
        raise BuildError(
            "Go is not installed: the cluster's Temporal server is built from its Go module "
            f"(Go {GO_MIN[0]}.{GO_MIN[1]} or newer, https://go.dev/doc/install); the dev server (`make run`) needs no Go"
        )
    found = re.search(r"go(\d+)\.(\d+)", subprocess.run([go, "version"], capture_output=True, text=True).stdout)
    if not found or (int(found[1]), int(found[2])) < GO_MIN:
        raise BuildError(
            f"{SERVER_MODULE}@{TEMPORAL_SERVER_VERSION} needs Go {GO_MIN[0]}.{GO_MIN[1]} or newer; found {found and found[0]}"
        )
    return go


def _go_env(go: str) -> dict[str, str]:
    return {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}


def module_dir(go: str, version: str = TEMPORAL_SERVER_VERSION, module: str = SERVER_MODULE) -> Path:
    """The module's source in Go's module cache (downloaded if it is not there)."""
    done = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        env=_go_env(go),
        cwd=tempfile.gettempdir(),
    )
    if done.returncode != 0:
        raise BuildError(f"could not fetch {module}@{version} from the Go module proxy:\n{done.stdout}{done.stderr}")
    return Path(json.loads(done.stdout)["Dir"])


def ensure_built(version: str = TEMPORAL_SERVER_VERSION, say: Callable[[str], None] = print) -> TemporalBuild:
    """The server's binaries of `version`, built the first time, reused after."""
    go = go_binary()
    built = _ensure(go, SERVER_MODULE, version, PACKAGES, "temporal", "the Temporal server", say)
    return TemporalBuild(version, built["temporal-server"], built["temporal-sql-tool"], module_dir(go, version))


def ensure_ui_built(version: str = UI_SERVER_VERSION, say: Callable[[str], None] = print) -> Path:
    """The Web UI server's binary, built the first time, reused after. Its go.mod replaces a
    dependency, which `go install module@version` refuses, so it is built inside a copy of the
    module's source, as its own Makefile does."""
    go = go_binary()
    binary = cache_dir() / "temporal-ui" / version / "bin" / "temporal-ui-server"
    if binary.exists():
        return binary
    say(f"building the Temporal Web UI server {version} from {UI_MODULE} (first time only)…")
    started = time.monotonic()
    source = module_dir(go, version, UI_MODULE)
    cache_dir().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="ui-build-", dir=cache_dir()))
    try:
        work = staging / "src"
        shutil.copytree(source, work)
        for path in [work, *work.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)  # the module cache's copy is read-only
        done = subprocess.run(
            [go, "build", "-o", str(staging / binary.name), "./cmd/server"],
            cwd=work,
            env=_go_env(go),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BuildError(f"go build of the Temporal Web UI server {version} failed:\n{done.stderr[-3000:]}")
        binary.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / binary.name, binary)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"built the Temporal Web UI server {version} in {time.monotonic() - started:.0f} s")
    return binary


def _ensure(
    go: str, module: str, version: str, packages: dict[str, str], folder: str, what: str, say: Callable[[str], None]
) -> dict[str, Path]:
    """`packages` of `module` at `version`, in the cache's `folder`/`version`/bin."""
    bin_dir = cache_dir() / folder / version / "bin"
    wanted = {name: bin_dir / name for name in packages}
    if not all(path.exists() for path in wanted.values()):
        _build(go, module, version, packages, bin_dir, what, say)
    return wanted


def _build(
    go: str, module: str, version: str, packages: dict[str, str], bin_dir: Path, what: str, say: Callable[[str], None]
) -> None:
    say(f"building {what} {version} from {module} (first time only; minutes on two cores)…")
    started = time.monotonic()
    cache_dir().mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="temporal-build-", dir=cache_dir()))
    try:
        command = [go, "install", "-v", *(f"{module}/{package}@{version}" for package in packages.values())]
        process = subprocess.Popen(
            command,
            env={**_go_env(go), "GOBIN": str(staging)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tempfile.gettempdir(),
        )
        assert process.stdout is not None
        compiled, last_said = 0, started
        tail: list[str] = []
        for line in process.stdout:
            tail = [*tail[-30:], line.rstrip()]
            if not line.startswith("go: "):
                compiled += 1
            if time.monotonic() - last_said >= 15:
                say(f"  … {compiled} packages compiled, {time.monotonic() - started:.0f} s")
                last_said = time.monotonic()
        if process.wait() != 0:
            raise BuildError(f"go install of {what} {version} failed:\n" + "\n".join(tail))
        bin_dir.mkdir(parents=True, exist_ok=True)
        for name, package in packages.items():
            built = staging / Path(package).name
            os.replace(built, bin_dir / name)  # whole binaries only: a half-written one is never there
        say(f"built {what} {version} in {time.monotonic() - started:.0f} s ({bin_dir})")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
