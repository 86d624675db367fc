"""Issue 15 (a newcomer's first hour) and issue 12.7, through the real `claims` commands against
one `claims run` in a temporary folder (tests/security/running.py): the demo twice with new
prefixes, a drive on a track the claim did not take, the client address following the dev
server's port, a second `claims run` on ports in use, results on stdout and logs on stderr."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from client.claims import TrackNotTaken, drive, report_claim
from client.connect import connect, data_converter_for
from dev.scenarios import DEMO_PHOTO, sample_reports
from domain.models import Track
from tests.helpers import wait_until
from tests.helpers.running import ROOT, Service, running_service
from tests.workflows.helpers import unique_prefix
from workflows.messages import Stage


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from running_service(tmp_path_factory.mktemp("claims-run"))


def claims(
    service: Service, *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """A `claims` command in a shell that exported only what `claims run` printed (no address)."""
    run_env = {**service.env, **(env or {})}
    assert "PREMIUM_CLAIMS_TEMPORAL_ADDRESS" not in run_env
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], cwd=ROOT, env=run_env, capture_output=True, text=True, timeout=timeout
    )


def test_issue_15_1_the_demo_twice_with_new_prefixes_pays_every_track(service: Service) -> None:
    """R-EL-1.2: each demo's claims are on their own fresh copies of the sample policies, so a
    second demo with a new prefix takes every track again (it hung 31 s and failed before)."""
    for _ in range(2):
        prefix = unique_prefix()
        started = time.monotonic()
        result = claims(service, "demo", "--prefix", prefix, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        done = [line for line in result.stdout.splitlines() if line.strip().startswith("done:")]
        assert len(done) == 4 and all("paid" in line and "paid -" not in line for line in done), result.stdout
        assert f"policy {prefix}-P000000" in result.stdout
        assert time.monotonic() - started < 200
    # R-X-2: the demo again with the same prefix reaches the same claims (reported at the earlier
    # run's time), as the README says, instead of refusing the report
    again = claims(service, "demo", "--prefix", prefix, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("claim already exists (R-X-2)") == 4, again.stdout
    assert "refused" not in again.stdout + again.stderr


async def test_issue_15_1_a_drive_on_a_track_not_taken_fails_at_once_with_the_decision(service: Service) -> None:
    client = await connect(service.address, data_converter=data_converter_for(service.settings))
    report = sample_reports(unique_prefix(), datetime.now(UTC))["B"]  # sample P2026000002: track B only
    await report_claim(client, report, service.settings.task_queue)
    started = time.monotonic()
    with pytest.raises(TrackNotTaken) as refused:
        await drive(
            client, report.report_no, Track.AUTHORISATION, [(Stage.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": True})]
        )
    assert time.monotonic() - started < 10  # not the 30 s timeout
    assert f"track A of {report.report_no} was not taken" in str(refused.value)
    assert refused.value.view.decision is not None


def test_issue_15_5_commands_follow_the_dev_server_port_without_an_address(service: Service) -> None:
    """The shell exported PREMIUM_CLAIMS_DEV_SERVER_PORT (as `claims run` says), not the address."""
    result = claims(service, "list", "--page-size", "1")
    assert result.returncode == 0, result.stderr
    assert "REPORT NO" in result.stdout
    banner = service.log.read_text(errors="replace")
    assert f"export PREMIUM_CLAIMS_DATA_DIR={service.settings.data_dir}" in banner
    assert f"PREMIUM_CLAIMS_DEV_SERVER_PORT={service.settings.dev_server_port}" in banner


def test_issue_12_7_a_second_claims_run_names_the_port_in_use_and_its_process(service: Service) -> None:
    result = claims(service, "run", timeout=60)
    assert result.returncode != 0
    assert "ready in" not in result.stdout
    port = service.settings.dev_server_port
    assert f"port {port} for the Temporal dev server (gRPC) is in use by pid" in result.stderr, result.stderr
    assert "PREMIUM_CLAIMS_DEV_SERVER_PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_issue_12_7_results_on_stdout_logs_on_stderr_no_colour(service: Service, tmp_path: Path) -> None:
    photo = tmp_path / "scene.png"
    photo.write_bytes(DEMO_PHOTO)
    result = claims(service, "upload", str(photo), env={"PREMIUM_CLAIMS_LOG_FORMAT": "console"})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 1 and len(result.stdout.strip()) == 64  # the sha256 alone
    assert "store.file" in result.stderr  # the log line
    assert "\x1b[" not in result.stderr + result.stdout  # not a terminal: no ANSI colour
    loaded = claims(service, "load-policies", str(ROOT / "data" / "sample" / "core.json"))
    assert loaded.returncode == 0 and loaded.stdout.startswith("loaded "), loaded.stdout + loaded.stderr
    assert os.linesep.join(loaded.stdout.splitlines()).count("\n") == 0


def test_issue_15_4_cli_errors_name_the_field_never_the_value(service: Service, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(
        '{"report_no": "R20261125009", "policy_no": "P2026000007", "reported_at": "2026-11-25T10:00:00+08:00",'
        ' "accident_kind": "single_party", "at_scene": false, "driver_is_insured": true, "reporter_is_insured": true,'
        ' "reporter_phone": "1380013800", "payee_account": "6222000000000018"}'
    )
    result = claims(service, "report", str(bad))
    assert result.returncode == 1
    assert "reporter_phone: a mobile number has 11 digits" in result.stderr and "payee_account:" in result.stderr
    for leaked in ("1380013800", "6222000000000018", "input_value", "errors.pydantic.dev", "Value error", "Traceback"):
        assert leaked not in result.stderr + result.stdout, leaked
    typo = claims(service, "list", env={"PREMIUM_CLAIMS_APIPORT": "9000"})
    assert typo.returncode == 2
    assert typo.stderr.strip() == "error: settings: PREMIUM_CLAIMS_APIPORT: no such setting"
    wrong = claims(service, "list", env={"PREMIUM_CLAIMS_API_PORT": "nine"})
    assert "PREMIUM_CLAIMS_API_PORT:" in wrong.stderr and "nine" not in wrong.stderr and "Traceback" not in wrong.stderr


def test_issue_15_2_and_6_fresh_policies_then_show_says_what_to_do_next(service: Service, tmp_path: Path) -> None:
    """R-EL-1.2: `claims sample-policies` makes fresh copies good for a first claim; `claims show`
    shows one time zone (labelled), the whole timeline, the next step with an example body, and
    `claims step --by` records who took it (a step without anyone is refused)."""
    prefix = unique_prefix()
    made = claims(service, "sample-policies", "--prefix", prefix, "--count", "2", "--track", "B", "--load")
    assert made.returncode == 0, made.stderr
    assert f"{prefix}P000001  track B (a copy of sample P2026000002)" in made.stdout
    report = sample_reports(prefix, datetime.now(UTC))["B"].model_copy(update={"policy_no": f"{prefix}P000001"})
    path = tmp_path / "report.json"
    path.write_text(report.model_dump_json())
    assert claims(service, "report", str(path)).returncode == 0

    page = ""

    def next_step_shown() -> bool:
        nonlocal page
        page = claims(service, "show", report.report_no).stdout
        return "next: claims step" in page

    wait_until(next_step_shown, 30, f"claims show {report.report_no} to give the next step", every=0.5)
    assert "(times in China time, UTC+08:00)" in page, page
    assert "track B TAKEN" in page
    assert f"next: claims step {report.report_no} B accept_offer '{{\"accepted\": true}}' --by YOUR_CODE" in page, page
    assert "+08:00" not in page.split("\n", 1)[1] and "T" not in "".join(
        line.split()[0] for line in page.splitlines() if line.startswith("      2")
    )

    nobody = claims(service, "step", report.report_no, "B", "accept_offer", '{"accepted": true}')
    assert nobody.returncode == 1 and "--by STAFF_CODE" in nobody.stderr
    taken = claims(service, "step", report.report_no, "B", "accept_offer", '{"accepted": true}', "--by", "AG07")
    assert taken.returncode == 0, taken.stderr
    after = claims(service, "show", report.report_no).stdout
    timeline = [line for line in after.splitlines() if line.startswith("      2")]
    assert any(line.rstrip().endswith("offer_accepted AG07") for line in timeline), after
    count = next(line for line in after.splitlines() if "timeline (" in line)
    assert f"timeline ({len(timeline)} entries)" in count
    assert "next: claims step" in after and "receive_documents" in after


def test_issue_23_7_a_demo_cut_by_a_closed_pipe_ends_quietly_and_the_next_run_finishes_it(service: Service) -> None:
    """`claims demo --prefix X | head -5` ended in a BrokenPipeError traceback and left track A
    half-driven; the demo again said "already exists" and never finished it."""
    prefix = unique_prefix()
    cut = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo", "--prefix", prefix],
        cwd=ROOT,
        env=service.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert cut.stdout is not None and cut.stderr is not None
    head = [cut.stdout.readline() for _ in range(5)]  # what `head -5` reads, then it closes the pipe
    cut.stdout.close()
    stderr = cut.stderr.read()
    assert cut.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert head[-1].strip().startswith("step 3/"), head  # track A stands half-driven
    again = claims(service, "demo", "--prefix", prefix, timeout=240)
    assert again.returncode == 0, again.stdout + again.stderr
    # the cut run took a step or more after the fifth line before it wrote into the closed pipe
    resumed = re.search(rf"\[A\] report {prefix}-A: claim already exists \(R-X-2\), resuming at step (\d+)/", again.stdout)
    assert resumed and int(resumed.group(1)) >= 4, again.stdout
    done = [line for line in again.stdout.splitlines() if line.strip().startswith("done:")]
    assert len(done) == 4 and all("closed, paid" in line and "paid -" not in line for line in done), again.stdout


def test_issue_23_7_the_cli_says_what_the_api_says_of_a_step_on_a_closed_or_untaken_track(service: Service) -> None:
    """It said "not found: workflow execution already completed" and "workflow not found for ID
    claim-…-A"; the API says track_closed, and names the decision for a track not taken."""
    prefix = unique_prefix()
    fresh = claims(service, "sample-policies", "--prefix", prefix, "--count", "1", "--track", "B", "--load")
    assert fresh.returncode == 0, fresh.stderr
    report = sample_reports(prefix, datetime.now(UTC))["B"].model_copy(update={"policy_no": f"{prefix}P000000"})
    path = service.settings.data_dir / f"{report.report_no}.json"
    path.write_text(report.model_dump_json(), encoding="utf-8")
    assert claims(service, "report", str(path)).returncode == 0
    untaken = claims(service, "step", report.report_no, "A", "accept_offer", '{"accepted": true}', "--by", "AG01")
    assert untaken.returncode == 1
    assert f"not found (track_not_found): track A of {report.report_no} was not taken (claim stage" in untaken.stderr, (
        untaken.stderr
    )
    declined = claims(service, "step", report.report_no, "B", "accept_offer", '{"accepted": false}', "--by", "AG01")
    assert declined.returncode == 0, declined.stderr
    tries: list[subprocess.CompletedProcess[str]] = []

    def refused_as_closed() -> bool:  # the track ends once it has told its claim
        tries.append(claims(service, "step", report.report_no, "B", "accept_offer", '{"accepted": true}', "--by", "AG01"))
        return "track_closed" in tries[-1].stderr

    wait_until(refused_as_closed, 10, f"a step on {report.report_no}-B to be refused as track_closed", every=0.2)
    late = tries[-1]
    assert late.returncode == 1
    assert f"refused (track_closed): track B of {report.report_no} has ended" in late.stderr, late.stderr
