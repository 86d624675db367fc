"""Issue 5 (PRC PIPL): a claim's personal data (names, mobile numbers, ID card numbers, plates, bank
accounts) never reaches the Temporal server, its database, its UI or the logs in clear.

The service runs as `claims run` runs it (the project's launcher: dev server with a known SQLite
file and the UI wired to the codec server, worker, API, codec server; embedded key file), one
claim of each track (A–D) carries distinctive fake personal data to payment and callback, one of
them through a bank decline (an activity failure, so failure messages are in the history). Then
the values are looked for, in raw UTF-8 and JSON-escaped form, in: every history and description
read through the `temporal` CLI without the codec, the search attributes, the raw bytes of the
dev server's SQLite files, and the log output of the worker, activities, API and server. They
occur nowhere; and, so the test can fail, the same histories do hold encrypted payloads and the
codec server (with a staff token) and the CLI through it do show the values.
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from datetime import UTC, datetime

import httpx
from temporalio.client import Client

from activities import open_embedded
from client.claims import drive, take_step, wait_for_stage
from client.connect import connect, data_converter_for
from dev.devserver import temporal_binary
from dev.scenarios import DEMO_PHOTO, sample_reports, steps_for
from domain.models import Report, Track
from security.auth import Role, local_tokens
from security.codec import ENCODING, key_ids_in, payloads_in
from tests.helpers.running import DECLINE, Service, leaks, luhn, personal_values, stop, temporal, with_distinct_phones
from workflows import search_attributes
from workflows.messages import ClaimView, Stage, claim_workflow_id


async def run_claims(service: Service, client: Client, reports: dict[str, Report], photo: str) -> None:
    token = local_tokens(service.settings.auth, service.settings.data_dir).issue("AG01", {Role.AGENT})
    async with httpx.AsyncClient(base_url=service.api, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        for report in reports.values():
            response = await api.post("/claims", json=report.model_dump(mode="json"))
            assert response.status_code == 201, response.text

    async def plain(code: str) -> None:
        track, report = Track(code), reports[code]
        await drive(client, report.report_no, track, steps_for(track, report, photo_sha256=photo))

    async def declined_then_paid(code: str) -> None:
        """R-X-3: the bank declines (a non-retryable activity failure), the account is put right."""
        track, report = Track(code), reports[code]
        account = report.payee_account
        assert account is not None
        steps = steps_for(track, report, photo_sha256=photo)
        await drive(client, report.report_no, track, steps[:-1])
        view = await wait_for_stage(client, report.report_no, track, Stage.AWAITING_PAYEE_ACCOUNT, timeout=60)
        assert view.payment is not None and DECLINE in (view.payment.refused_reason or "")  # decoded for staff
        service.gateway.set_closed(account, False)
        await take_step(client, report.report_no, track, "correct_payee_account", {"account": account, "by": "AG01"})
        await drive(client, report.report_no, track, steps[-1:])

    service.gateway.set_closed(str(reports["B"].payee_account), True)
    await asyncio.gather(plain("A"), declined_then_paid("B"), plain("C"), plain("D"))
    for report in reports.values():
        view = await client.get_workflow_handle(claim_workflow_id(report.report_no), result_type=ClaimView).result()
        assert all(t.payment is not None and t.payment.paid_at is not None for t in view.tracks.values()), view


async def test_issue_5_personal_data_occurs_nowhere_in_clear(service: Service) -> None:
    data_dir = service.settings.data_dir
    client = await connect(service.address, "default", data_converter=data_converter_for(service.settings))
    # the embedded default made its key file, owner-only
    assert (data_dir / "secrets" / "codec-local1.key").stat().st_mode & 0o777 == 0o600

    prefix = "PII" + uuid.uuid4().hex[:8].upper()
    reports = {
        code: report.model_copy(update={"payee_account": luhn(f"621700445500{'ABCD'.index(code) + 1:03d}")})
        for code, report in with_distinct_phones(sample_reports(prefix, datetime.now(UTC)), "7705").items()
    }
    photo = open_embedded(data_dir).store.put(DEMO_PHOTO, "image/png").sha256
    await run_claims(service, client, reports, photo)
    values = personal_values(data_dir, reports)

    # --- the histories and descriptions through the `temporal` CLI, without the codec ---------
    listed = json.loads(temporal(service, "workflow", "list") or "[]")
    ids = sorted({w["execution"]["workflowId"] for w in listed})
    assert len(ids) == 8, ids  # four claims, one track each
    seen = json.dumps(listed, ensure_ascii=False)
    encrypted_total = 0
    contents = b""
    for workflow_id in ids:
        shown = temporal(service, "workflow", "show", "-w", workflow_id)
        raw = temporal(service, "workflow", "show", "-w", workflow_id, "--no-json-shorthand-payloads")
        described = temporal(service, "workflow", "describe", "-w", workflow_id)
        seen += shown + raw + described
        # the CLI shows payloads in base64 when it does not render them as JSON: open those too
        contents += b"".join(payload_bytes(json.loads(text)) for text in (shown, raw, described))
        # every payload is ciphertext except what never passes a codec (search attributes, SDK markers)
        counts = key_ids_in(json.loads(raw))
        clear = [p for p, node in payloads_in(json.loads(raw)) if key_ids_in(node) == {"": 1} and not _clear_by_design(p)]
        assert clear == [], (workflow_id, clear)
        assert counts["local1"] > 0, (workflow_id, counts)
        encrypted_total += counts["local1"]
    assert leaks(seen.encode(), values) == [] and leaks(contents, values) == []
    assert DECLINE not in seen  # failure messages are encrypted too (encode_common_attributes)
    assert "Encoded failure" in seen and prefix in seen  # …and the failure and the claims are there
    assert encrypted_total > 50

    # --- search attributes: codes only ------------------------------------------------------------
    for workflow_id in ids:
        description = await client.get_workflow_handle(workflow_id).describe()
        attributes = {pair.key.name: pair.value for pair in description.typed_search_attributes}
        ours = {name for name in attributes if name not in ("BuildIds", "TemporalChangeVersion")}  # the SDK's own
        assert ours <= {key.name for key in search_attributes.ALL}
        assert leaks(json.dumps(attributes, default=str, ensure_ascii=False).encode(), values) == []

    # --- authorised staff do see them: the codec server, and the CLI through it ------------------
    staff = local_tokens(service.settings.auth, data_dir).issue("SU01", {Role.SUPERVISOR})  # sees personal data
    claim_b = claim_workflow_id(reports["B"].report_no)
    phone_b, account_b = reports["B"].reporter_phone, reports["B"].payee_account
    assert phone_b is not None and account_b is not None
    start = json.loads(temporal(service, "workflow", "show", "-w", claim_b, "--no-json-shorthand-payloads"))
    started_input = start["events"][0]["workflowExecutionStartedEventAttributes"]["input"]
    decoded = httpx.post(f"{service.codec}/decode", json=started_input, headers={"Authorization": f"Bearer {staff}"}, timeout=10)
    assert decoded.status_code == 200
    clear_input = base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
    assert phone_b in clear_input and account_b in clear_input
    assert httpx.post(f"{service.codec}/decode", json=started_input, timeout=10).status_code == 401
    operations = local_tokens(service.settings.auth, data_dir).issue("OP01", {Role.OPERATIONS})  # the API masks for it
    refused = httpx.post(
        f"{service.codec}/decode", json=started_input, headers={"Authorization": f"Bearer {operations}"}, timeout=10
    )
    assert refused.status_code == 403 and phone_b not in refused.text
    through_codec = subprocess.run(
        [
            temporal_binary(),
            "workflow",
            "show",
            "-w",
            claim_b,
            "--address",
            service.address,
            "--output",
            "json",
            "--disable-config-file",
            "--disable-config-env",
            "--codec-endpoint",
            service.codec,
            "--codec-auth",
            f"Bearer {staff}",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    ).stdout
    opened = payload_bytes(json.loads(through_codec))
    assert phone_b.encode() in opened and DECLINE.encode() in opened
    # the UI is told where its codec server is
    ui_settings = httpx.get(f"{service.ui}/api/v1/settings", timeout=10).json()
    assert ui_settings["Codec"]["Endpoint"] == service.codec

    # --- the dev server's SQLite files, once it has stopped ----------------------------------------
    stop(service.proc)
    assert service.proc.returncode is not None
    files = sorted(data_dir.glob("temporal.sqlite3*"))
    assert data_dir / "temporal.sqlite3" in files
    database = b"".join(path.read_bytes() for path in files)
    assert leaks(database, values) == []
    assert DECLINE.encode() not in database
    assert ENCODING in database and prefix.encode() in database  # the histories are there, as ciphertext

    # --- the logs: worker, activities, API, codec server (stdout/stderr of `claims run`), server --
    logs = service.log.read_bytes() + (data_dir / "temporal-server.log").read_bytes()
    assert prefix.encode() in logs  # claims were logged (by report number)
    assert leaks(logs, values) == [], _lines_with(logs, values)


def payload_bytes(document: object) -> bytes:
    """The base64-decoded data of every payload in a JSON document, joined."""
    return b"\n".join(base64.b64decode(node.get("data", "")) for _, node in payloads_in(document))


def _clear_by_design(path: tuple[str, ...]) -> bool:
    marker = "markerRecordedEventAttributes" in path and path[-2] in ("patch-data", "data")
    return "searchAttributes" in path or marker


def _lines_with(logs: bytes, values: set[str]) -> list[str]:
    return [line.decode(errors="replace")[:400] for line in logs.splitlines() if leaks(line, values)][:10]
