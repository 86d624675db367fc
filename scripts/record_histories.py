"""Record the event histories of one claim of every track, for the replay test.

    .venv/bin/python scripts/record_histories.py v1

runs the sample claims (dev/scenarios.py) from report to callback against a fresh dev server
with the embedded outside systems in a temporary folder, and writes each workflow's history to
tests/histories/<WorkflowType>/<version>-<scenario>.json. Record a new version before changing a
workflow; the replay test then proves the change still replays every recorded claim.

The claims run with the project's converter (payload encryption on, under a throwaway key), and
the histories are written decrypted: they hold the sample data's fake personal data only, and no
key ever lives in the repository. The replay test reads them through the codec, which passes
payloads in clear through.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import tempfile
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities import build_activities, open_embedded
from client.claims import drive, report_for_decision
from dev.scenarios import DEMO_PHOTO, sample_reports, steps_for
from domain.models import AccidentKind, Track
from domain.rules import RuleSettings
from gateway.bank import open_bank
from security.codec import EncryptionCodec, data_converter, decode_json_history
from worker.main import build_worker
from workflows.messages import Stage, track_workflow_id
from workflows.search_attributes import ALL as ALL_SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
HISTORIES = ROOT / "tests" / "histories"


async def record(version: str) -> list[Path]:
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as data:
        data_dir = Path(data)
        systems = open_embedded(data_dir)
        systems.core.load_file(ROOT / "data" / "sample" / "core.json")
        photo = systems.store.put(DEMO_PHOTO, "image/png").sha256
        reports = sample_reports("H" + uuid.uuid4().hex[:8].upper(), datetime.now(UTC))
        scenarios = {code: (report, [Track(code)]) for code, report in reports.items()}
        # R-X-2: a two-party small claim with an injury runs B and D together
        both = reports["B"].model_copy(
            update={
                "report_no": reports["B"].report_no + "-BD",
                "policy_no": "P2026000007",
                "accident_kind": AccidentKind.TWO_PARTY,
                "injury": True,
                "estimated_third_party_loss": Decimal("900.00"),
                "reporter_phone": "13800000107",
            }
        )
        scenarios["BD"] = (both, [Track.CREDIT, Track.INJURY])
        # R-C-1: the customer declines the expert team; the claim goes to the ordinary process
        declined = reports["C"].model_copy(update={"report_no": reports["C"].report_no + "-X"})
        scenarios["C-declined"] = (declined, [Track.EXPERT_TEAM])
        own_steps = {"C-declined": [(Stage.AWAITING_ACCEPTANCE, "accept_offer", {"accepted": False, "by": "AG01"})]}
        codec = EncryptionCodec({"record": secrets.token_bytes(32)}, "record")
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(Path(sys.executable).with_name("temporal")),
            data_converter=data_converter(codec),
            dev_server_log_level="error",
            search_attributes=ALL_SEARCH_ATTRIBUTES,
        )
        async with env:
            task_queue = "record-histories"
            async with build_worker(env.client, task_queue, build_activities(data_dir, RuleSettings(), bank=open_bank(data_dir))):
                for name, (report, tracks) in scenarios.items():
                    # as the API reports: update-with-start, answered with the decision
                    answer, handle = await report_for_decision(env.client, report, task_queue, 30)
                    assert answer is not None and answer.created, report.report_no
                    await asyncio.gather(
                        *[
                            drive(
                                env.client, report.report_no, t, own_steps.get(name) or steps_for(t, report, photo_sha256=photo)
                            )
                            for t in tracks
                        ]
                    )
                    handle = env.client.get_workflow_handle(handle.id)
                    await handle.result()
                    ids = [handle.id, *[track_workflow_id(report.report_no, t) for t in tracks]]
                    for workflow_id in ids:
                        described = await env.client.get_workflow_handle(workflow_id).describe()
                        history = await env.client.get_workflow_handle(workflow_id).fetch_history()
                        path = HISTORIES / described.workflow_type / f"{version}-{name}.json"
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text(json.dumps(decode_json_history(codec, history.to_json_dict()), indent=2))
                        written.append(path)
                        print(f"{path.relative_to(ROOT)}: {len(history.events)} events", flush=True)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("version", help="label of the workflow code recorded, e.g. v1")
    args = parser.parse_args()
    asyncio.run(record(args.version))


if __name__ == "__main__":
    main()
