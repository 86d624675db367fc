"""Issue 5.1, key rotation: claims started under key 1 finish, replay and decode after key 2 has
become the primary; a process without key 1 fails with an error naming it, never silently."""

from __future__ import annotations

import secrets
import uuid

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from client.claims import drive, report_claim
from dev.scenarios import steps_for
from domain.models import Track
from security.codec import EncryptionCodec, MissingEncryptionKey, data_converter, decode_json_history, key_ids_in, payloads_in
from tests.workflows.fakes import FakeSystems
from tests.workflows.helpers import PHOTO, reports
from worker.main import WORKFLOWS, build_worker, workflow_runner
from workflows.messages import ClaimView, Stage, track_workflow_id


def client_with(env: WorkflowEnvironment, codec: EncryptionCodec) -> Client:
    return Client(env.client.service_client, namespace=env.client.namespace, data_converter=data_converter(codec))


def clear_by_design(path: tuple[str, ...]) -> bool:
    marker = "markerRecordedEventAttributes" in path and path[-2] in ("patch-data", "data")
    return "searchAttributes" in path or marker


def replayer(codec: EncryptionCodec) -> Replayer:
    return Replayer(workflows=WORKFLOWS, workflow_runner=workflow_runner(), data_converter=data_converter(codec))


async def test_issue_5_claims_started_under_key_1_finish_replay_and_decode_after_key_2_is_primary(
    dev_env: WorkflowEnvironment,
) -> None:
    k1, k2 = secrets.token_bytes(32), secrets.token_bytes(32)
    before = EncryptionCodec({"rot1": k1}, "rot1")
    after = EncryptionCodec({"rot1": k1, "rot2": k2}, "rot2")
    fakes = FakeSystems()
    task_queue = f"rotation-{uuid.uuid4().hex[:8]}"
    claims = {t: reports()[t.value] for t in (Track.CREDIT, Track.INJURY)}
    steps = {t: steps_for(t, r, photo_sha256=PHOTO) for t, r in claims.items()}

    # reported and half-way through under key 1 …
    old_client = client_with(dev_env, before)
    async with build_worker(old_client, task_queue, fakes.activities(), max_cached_workflows=100):
        for track, report in claims.items():
            await report_claim(old_client, report, task_queue)
            await drive(old_client, report.report_no, track, steps[track][:2])
    # … then every process restarted with key 2 primary and key 1 kept for decryption
    new_client = client_with(dev_env, after)
    async with build_worker(new_client, task_queue, fakes.activities(), max_cached_workflows=0):  # replays each task
        for track, report in claims.items():
            await drive(new_client, report.report_no, track, steps[track][2:])
            view = await new_client.get_workflow_handle(f"claim-{report.report_no}", result_type=ClaimView).result()
            assert view.tracks[track].stage is Stage.CLOSED and view.tracks[track].payment is not None

    used: set[str] = set()
    histories: list[WorkflowHistory] = []
    for track, report in claims.items():
        for workflow_id in (f"claim-{report.report_no}", track_workflow_id(report.report_no, track)):
            history = await new_client.get_workflow_handle(workflow_id).fetch_history()
            histories.append(history)
            raw = history.to_json_dict()
            counts = key_ids_in(raw)
            used |= set(counts) - {""}
            # nothing in clear but what never passes through a codec: search attributes, and the
            # SDK's own marker data (patch IDs; a local activity's type, attempt and times)
            clear = [path for path, node in payloads_in(raw) if key_ids_in(node) == {"": 1}]
            assert [p for p in clear if not clear_by_design(p)] == []
            decode_json_history(after, raw)  # every payload opens
            await replayer(after).replay_workflow(history)
    assert used == {"rot1", "rot2"}  # both generations of payloads are there

    # Without key 1 the claim does not open, and the error says which key is missing.
    without_k1 = EncryptionCodec({"rot2": k2}, "rot2")
    with pytest.raises(MissingEncryptionKey, match="'rot1'"):
        decode_json_history(without_k1, histories[0].to_json_dict())
    with pytest.raises(Exception, match="MissingEncryptionKey"):  # its message is encrypted too
        await replayer(without_k1).replay_workflow(histories[0])
