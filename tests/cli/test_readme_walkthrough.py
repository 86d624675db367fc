"""Issue 23.7: every example on the README works when followed in order on a fresh clone.

The test reads the README's shell blocks as they stand and runs them, in the page's order, the way
a newcomer would: `make run` in one terminal (here a process group, stopped by Ctrl-C's SIGINT),
then each block in a second terminal that sourced the virtual environment's `activate`. After the
README come the walk-throughs the docs say follow it (docs/api.md's claim by curl,
docs/operations.md's `temporal` CLI, docs/cli.md's sample policies and demo).

What it changes in the text, and only this: the ports (`localhost:8000`, `:8234`) become the free
ports this run took (the `temporal` CLI's through TEMPORAL_ADDRESS) and `/tmp/` a folder of its own, so it runs beside another `make run` and
another test run. Each block runs under `set -euo pipefail`, `curl` answers an HTTP error with a
failure (`--fail-with-body`), so any refused command fails the block and the test prints the
transcript."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.helpers import wait_until
from tests.helpers.markdown import fenced_blocks
from tests.helpers.running import ROOT, free_ports, fresh_environment

pytestmark = pytest.mark.e2e

A_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(range(256)) + b"\xff\xd9"


# The shell a newcomer's second terminal is: strict, and curl failing on an HTTP error as a
# refused `claims` command does, with the body still printed.
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
"""


def blocks(page: str) -> list[tuple[str, str]]:
    return fenced_blocks((ROOT / page).read_text(encoding="utf-8"))


def shell_blocks(page: str) -> list[str]:
    return [text for language, text in blocks(page) if language == "sh"]


@dataclass
class MakeRun:
    proc: subprocess.Popen
    env: dict[str, str]  # the second terminal's
    out: Path
    terminal: Path  # the second terminal's working folder (and its /tmp)
    api_port: int
    codec_port: int


def stop_group(proc: subprocess.Popen) -> None:
    """Ctrl-C as a terminal sends it: SIGINT to the whole foreground group (make and `claims run`)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    home = tmp_path_factory.mktemp("readme")
    terminal = home / "terminal"
    terminal.mkdir()
    ports = free_ports()
    env = {k: v for k, v in fresh_environment(home, home / "data", ports).items() if not k.startswith("VIRTUAL_ENV")}
    two_commands = shell_blocks("README.md")[0]
    assert "make run" in two_commands and "make test" in two_commands, two_commands
    out = home / "make-run.out"
    with open(out, "wb") as stdout, open(home / "make-run.err", "wb") as stderr:
        # `make run` itself (the virtual environment this test runs in, already installed)
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"VENV={sys.prefix}"],
            cwd=ROOT,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    # the `temporal` CLI's default address is the dev server's default port: this run's instead
    running = MakeRun(proc, {**env, "TEMPORAL_ADDRESS": f"127.0.0.1:{ports['dev']}"}, out, terminal, ports["api"], ports["codec"])

    def up() -> bool:
        assert proc.poll() is None, (home / "make-run.err").read_text(errors="replace")[-3000:]
        try:
            return httpx.get(f"http://127.0.0.1:{ports['api']}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, 120, "make run to come up", every=0.3)
        yield running
    finally:
        stop_group(proc)


def terminal(run: MakeRun, block: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """One block in the second terminal (`. .venv/bin/activate` first, as the README says)."""
    script = (
        block.replace("localhost:8000", f"localhost:{run.api_port}")
        .replace("localhost:8234", f"localhost:{run.codec_port}")
        .replace("/tmp/", f"{run.terminal}/")
    )
    result = subprocess.run(
        ["bash", "-c", f". {sys.prefix}/bin/activate\n{PRELUDE}set -x\n{script}"],
        cwd=run.terminal,
        env=run.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, (
        f"exit {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    assert "alembic" not in result.stderr, result.stderr[-4000:]  # no library's INFO lines in a command's log
    return result


def json_documents(text: str) -> list[dict]:
    """curl prints each answer without a newline after it: the documents one after another."""
    decoder, documents, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        document, at = decoder.raw_decode(text, at)
        documents.append(document)
    return documents


def claims_json(run: MakeRun, *args: str) -> dict:
    result = terminal(run, " ".join(["claims", *args, "--json"]))
    return json.loads(result.stdout)


def test_make_run_prints_what_the_readme_excerpt_shows(make_run: MakeRun) -> None:
    excerpt = next(text for language, text in blocks("README.md") if language == "")
    labels = [line.split(":")[0] for line in excerpt.splitlines() if re.match(r"^[A-Z][\w ]+:", line)]
    assert len(labels) >= 6, excerpt
    printed = make_run.out.read_text(errors="replace")
    for label in labels:
        assert f"{label}:" in printed, (label, printed)


def test_readme_tour(make_run: MakeRun) -> None:
    tour = shell_blocks("README.md")[1]
    assert tour.startswith("claims demo"), tour
    result = terminal(make_run, tour)
    done = [line for line in result.stdout.splitlines() if line.strip().startswith("done:")]
    assert len(done) == 4, result.stdout  # a claim of each track, driven to its end
    assert "DEMO2026-C" in result.stdout
    # R-D-1: the injury claim's timeline in `claims show` carries its SMS deliveries (the outbox's words)
    injury = claims_json(make_run, "show", "DEMO2026-D")
    assert any(entry["step"].startswith("sms_") for entry in injury["tracks"]["D"]["timeline"]), injury["tracks"]["D"]


def test_readme_one_claim_by_hand(make_run: MakeRun) -> None:
    by_hand = shell_blocks("README.md")[2]
    assert "claims report /tmp/report.json" in by_hand, by_hand
    terminal(make_run, by_hand)
    claim = claims_json(make_run, "show", "R20261125001")
    assert claim["tracks"]["B"]["stage"] == "closed", claim["tracks"]  # documents, assessment, payment, callback


def test_readme_the_same_over_http(make_run: MakeRun) -> None:
    over_http = shell_blocks("README.md")[3]
    assert "curl -s -X POST localhost:8000/claims " in over_http, over_http
    result = terminal(make_run, over_http)
    created, accepted, last = json_documents(result.stdout)
    assert created["created"] and created["decision"]["tracks"][1]["applies"], created  # track B taken
    assert accepted["timeline"][-2]["by"] == "AG01", accepted["timeline"]
    assert last["report_no"] == "R20261125002", last
    assert last["tracks"]["B"]["stage"] == "awaiting_documents", last["tracks"]  # the offer was accepted


def test_every_readme_shell_block_is_walked() -> None:
    """A block added to the README without a walk above fails here."""
    assert len(shell_blocks("README.md")) == 4


def test_docs_api_a_claim_by_curl(make_run: MakeRun) -> None:
    (make_run.terminal / "scene.jpg").write_bytes(A_JPEG)  # the reader's own photo
    [block] = shell_blocks("docs/api.md")
    result = terminal(make_run, block)
    *_, due = json_documents(result.stdout)
    assert due["due_at"] == "2027-01-04T23:59:59+08:00", due  # the answer the page shows below it


def test_docs_operations_the_temporal_cli(make_run: MakeRun) -> None:
    [block] = [b for b in shell_blocks("docs/operations.md") if "temporal workflow" in b]
    terminal(make_run, block)
    claim = claims_json(make_run, "show", "R20261125004")
    stage = claim["tracks"]["B"]["stage"]
    assert stage == "awaiting_documents", stage  # the update through the codec server took


def test_docs_cli_sample_policies_and_the_demo(make_run: MakeRun) -> None:
    for block in shell_blocks("docs/cli.md"):
        terminal(make_run, block)
