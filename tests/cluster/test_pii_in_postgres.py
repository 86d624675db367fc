"""Issue 21.3 (issue 5 on the real engine): a claim's personal data never reaches the cluster's
PostgreSQL in clear. One claim of each track with distinctive phones goes from its report to
payment and the callback; then both databases (`temporal`, `temporal_visibility`) are
dumped whole and searched for every personal value of those claims (the insured's name, mobile,
ID number, plate, bank account; the report's phones), raw and JSON-escaped.
None occurs; and, so the test can fail, the same dump does hold the claims (their report numbers,
which are search attributes) and their payloads (encrypted)."""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import UTC, datetime

import pytest

from client.claims import drive, report_claim
from dev.cluster import Cluster
from dev.postgres import server_bin
from dev.scenarios import sample_reports, steps_for
from domain.models import Track
from security.codec import ENCODING
from tests.helpers.running import leaks, with_distinct_phones
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import running

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


async def test_personal_data_is_nowhere_in_clear_in_postgresql(cluster: Cluster, dev_env) -> None:
    fakes = FakeSystems()
    prefix = "PG" + uuid.uuid4().hex[:8].upper()
    # the payee account stays the insured's own (R-EL-1.6), as the core system holds it
    reports = with_distinct_phones(sample_reports(prefix, datetime.now(UTC)), "8806")
    values: set[str] = set()
    for report in reports.values():
        policy = fakes.policies[report.policy_no]
        customer = fakes.customers[policy.customer_id]
        values |= {customer.name, customer.mobile or "", customer.id_number or "", policy.plate or ""}
        values |= {policy.insured_bank_account or "", report.reporter_phone or "", report.driver_phone or ""}
        values |= {report.payee_account or ""}
    values.discard("")
    assert len(values) >= 12

    client = dev_env.client
    async with running(client, fakes.activities()) as task_queue:
        for code, report in reports.items():
            _, started = await report_claim(client, report, task_queue)  # as the API reports it (tests/api runs it there)
            assert started
            track = Track(code)
            await drive(client, report.report_no, track, steps_for(track, report, photo_sha256="a" * 64))
        for report in reports.values():
            assert (await client.get_workflow_handle(f"claim-{report.report_no}").result()) is not None
    assert len(fakes.payments) >= 4  # every track paid

    history, visibility = dump(cluster, "temporal"), dump(cluster, "temporal_visibility")
    assert leaks(history, values) == []
    assert leaks(visibility, values) == []
    assert prefix.encode() in visibility  # the claims are indexed (report numbers: codes, not personal data)
    assert ENCODING in history  # payloads are there, as ciphertext (decoded from the bytea columns)
