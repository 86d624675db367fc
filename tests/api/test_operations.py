"""The operations view's counts (issue 13), from visibility only, against claims seeded in known
stages (tests/api/operations_seed.py): the numbers match the seeded state exactly, and follow a
claim that moves. Rules: OPEN-3 (a missed deadline makes a track overdue), R-B-5 (paid the same
day: in time), R-A-1 (the offer the agent makes, accepted to move the claim on)."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cli.main import build_parser
from cli.ops import cmd_ops
from client.claims import take_step
from domain.models import Track
from security.auth import Role
from tests.api.conftest import ApiEnv, error_of
from tests.api.operations_seed import EXPECTED_CELLS, seeded_claims
from tests.helpers import eventually


def cells(summary: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int]]:
    return {(c["track"], c["stage"]): (c["open"]["count"], c["overdue"]["count"]) for c in summary["stages"]}


def by_track(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["track"]: t for t in summary["tracks"]}


async def test_open_3_r_b_5_operations_summary_matches_the_seeded_claims_and_follows_a_move(
    api: ApiEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    async with seeded_claims(api.client, api.task_queue) as seed:
        due_before = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        params = {"report_no_prefix": seed.root, "due_before": due_before}
        ops = api.as_("OP01", Role.OPERATIONS)

        async def summary() -> dict[str, Any]:
            response = await api.raw.get("/operations/summary", params=params, headers=ops)
            assert response.status_code == 200, response.text
            return response.json()

        s = await eventually(summary, lambda s: cells(s) == EXPECTED_CELLS, what="the seeded cells")
        tracks = by_track(s)
        b = tracks["B"]
        assert (b["open"]["count"], b["overdue"]["count"], b["deadlines_missed"]["count"]) == (3, 1, 1)
        assert (b["paid_in_time"]["count"], b["paid_late"]["count"], b["in_time_share"]) == (1, 0, 1.0)
        assert tracks["A"]["open"]["count"] == 1 and tracks["C"]["open"]["count"] == 1
        assert tracks["D"]["open"]["count"] == 0 and tracks["A"]["in_time_share"] is None
        assert (s["payments_due"]["count"], s["payments_late"]["count"]) == (1, 0)
        assert [r["workflow_id"] for r in s["overdue"]] == [seed.workflow_id("overdue_b")]
        assert [r["workflow_id"] for r in s["due"]] == [seed.workflow_id("paying_b")]
        assert s["overdue"][0]["at"] is not None  # since when (DeadlineMissedAt)
        # each number names its query, and the UI address carries exactly that query
        cell = next(c for c in s["stages"] if (c["track"], c["stage"]) == ("B", "awaiting_acceptance"))
        assert f'ReportNo STARTS_WITH "{seed.root}"' in cell["overdue"]["query"]
        assert "Overdue = true" in cell["overdue"]["query"]
        parsed = urllib.parse.urlparse(cell["overdue"]["ui_url"])
        assert parsed.path == "/namespaces/default/workflows"
        assert urllib.parse.parse_qs(parsed.query)["query"] == [cell["overdue"]["query"]]
        count = await api.client.count_workflows(cell["overdue"]["query"])
        assert count.count == 1

        # `claims ops` counts the same, as JSON and as a table
        for as_json in (True, False):
            argv = ["ops", "--prefix", seed.root, "--due-before", due_before] + (["--json"] if as_json else [])
            await cmd_ops(api.client, "http://localhost:8233", build_parser().parse_args(argv))
            out = capsys.readouterr().out
            if as_json:
                assert cells(json.loads(out)) == EXPECTED_CELLS
            else:
                assert f"{'B':<6}{'awaiting_acceptance':<28}{1:>6}{1:>9}" in out.splitlines()
                assert any(line.strip().startswith(seed.reports["overdue_b"].report_no) for line in out.splitlines())

        # the agent's offer is accepted (R-A-1): track A moves on, and so do the numbers
        await take_step(
            api.client, seed.reports["waiting_a"].report_no, Track.AUTHORISATION, "accept_offer", {"accepted": True, "by": "AG01"}
        )
        moved = {k: v for k, v in EXPECTED_CELLS.items() if k != ("A", "awaiting_acceptance")} | {
            ("A", "awaiting_scene_estimate"): (1, 0)
        }
        await eventually(summary, lambda s: cells(s) == moved, what="the moved claim's cells")


async def test_operations_summary_is_for_operations_and_supervisors(api: ApiEnv) -> None:
    for role in (Role.OPERATIONS, Role.SUPERVISOR):
        ok = await api.raw.get("/operations/summary", params={"report_no_prefix": "NOSUCH"}, headers=api.as_("X1", role))
        assert ok.status_code == 200, (role, ok.text)
        assert all(t["open"]["count"] == 0 for t in ok.json()["tracks"])
    refused = await api.raw.get("/operations/summary", headers=api.as_("AS01", Role.ASSESSOR))
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert error_of(await api.raw.get("/operations/summary"))["code"] == "unauthenticated"


async def test_the_operations_page_sends_a_browser_without_a_sign_in_to_the_sign_in_page(api: ApiEnv) -> None:
    response = await api.raw.get("/operations")
    assert response.status_code == 303 and response.headers["location"] == "/operations/sign-in"
    page = await api.raw.get("/operations/sign-in")
    assert page.status_code == 200 and "Staff token" in page.text
    token = api.tokens.issue("OP01", frozenset({Role.OPERATIONS}))
    signed = await api.raw.post("/operations/sign-in", data={"token": token})
    cookie = signed.headers["set-cookie"]
    assert signed.status_code == 200 and "HttpOnly" in cookie and "SameSite=lax" in cookie
    html = await api.raw.get("/operations", params={"report_no_prefix": "NOSUCH"})
    assert html.status_code == 200 and 'http-equiv=refresh content="30"' in html.text
    # its styles come from this server only (api/static/), so its CSP allows no inline style or script
    csp = html.headers["content-security-policy"]
    assert "style-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "<style" not in html.text and "<script" not in html.text
    assert '<link rel=stylesheet href="/static/operations.css">' in html.text
    # the cookie is for the page, never a way to take a step or report
    api.raw.cookies.clear()
    assessor = api.tokens.issue("AS01", frozenset({Role.ASSESSOR}))
    refused = await api.raw.post("/operations/sign-in", data={"token": assessor})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    forged = await api.raw.post("/operations/sign-in", data={"token": token}, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and error_of(forged)["code"] == "cross_origin_form"


async def test_the_operations_stylesheet_is_served_without_a_token(api: ApiEnv) -> None:
    """The page's stylesheet is a static file (api/static/): a browser fetches it without a token."""
    api.raw.cookies.clear()
    css = await api.raw.get("/static/operations.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and ".late" in css.text
    assert (await api.raw.get("/static/operations.html")).status_code == 404  # the templates are not served
