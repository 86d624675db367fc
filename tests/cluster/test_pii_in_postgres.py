"""Issue 21.3 (issue 5 on the real engine): a claim's personal data never reaches the cluster's
PostgreSQL in clear. One claim of each track with distinctive phones and accounts goes through
the API to payment and the callback; then both databases (`temporal`, `temporal_visibility`) are
dumped whole and searched for every personal value of those claims (the insured's name, mobile,
ID number, plate, bank account; the report's phones and payee account), raw and JSON-escaped.
None occurs; and, so the test can fail, the same dump does hold the claims (their report numbers,
which are search attributes) and their payloads (encrypted)."""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import UTC, datetime

import pytest

from cli.scenarios import sample_reports, steps_for
from client.claims import drive
from dev.cluster import Cluster
from dev.postgres import server_bin
from domain.models import Track
from security.codec import ENCODING
from tests.api.conftest import serving_api
from tests.security.running import leaks, luhn
from tests.workflows.fakes import FakeSystems

pytestmark = pytest.mark.cluster


def dump(cluster: Cluster, database: str) -> bytes:
    """Every row of the database as pg_dump writes it, with each bytea value (written as hex:
    histories, mutable state, payloads) decoded beside it, so bytes stored in clear are seen."""
    text = subprocess.run(
        [str(server_bin() / "pg_dump"), "--data-only", "--no-owner", cluster.postgres.url(database)],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    blobs = b"\n".join(bytes.fromhex(h.decode()) for h in re.findall(rb"\\\\x((?:[0-9a-f]{2})+)", text))
    return text + b"\n" + blobs


async def test_personal_data_is_nowhere_in_clear_in_postgresql(cluster: Cluster, dev_env, tmp_path) -> None:
    fakes = FakeSystems()
    prefix = "PG" + uuid.uuid4().hex[:8].upper()
    reports = {}
    for code, report in sample_reports(prefix, datetime.now(UTC)).items():
        i = "ABCD".index(code) + 1
        reports[code] = report.model_copy(
            update={
                "reporter_phone": f"1398806{i:04d}",
                "driver_phone": f"1368806{i:04d}",
                "payee_account": luhn(f"621700556600{i:03d}"),
            }
        )
    values: set[str] = set()
    for report in reports.values():
        policy = fakes.policies[report.policy_no]
        customer = fakes.customers[policy.customer_id]
        values |= {customer.name, customer.mobile or "", customer.id_number or "", policy.plate or ""}
        values |= {policy.insured_bank_account or "", report.reporter_phone or "", report.driver_phone or ""}
        values |= {report.payee_account or ""}
    values.discard("")
    assert len(values) >= 12

    async with serving_api(dev_env.client, fakes, fakes.activities(), tmp_path) as api:
        for code, report in reports.items():
            response = await api.http.post("/claims", json=report.model_dump(mode="json"))
            assert response.status_code == 201, response.text
            track = Track(code)
            await drive(api.client, report.report_no, track, steps_for(track, report, photo_sha256="a" * 64))
        for report in reports.values():
            assert (await api.client.get_workflow_handle(f"claim-{report.report_no}").result()) is not None
    assert len(fakes.payments) >= 4  # every track paid

    history, visibility = dump(cluster, "temporal"), dump(cluster, "temporal_visibility")
    assert leaks(history, values) == []
    assert leaks(visibility, values) == []
    assert prefix.encode() in visibility  # the claims are indexed (report numbers: codes, not personal data)
    assert ENCODING in history  # payloads are there, as ciphertext (decoded from the bytea columns)
