"""Issue 5.2: authorised staff read claims decoded in the Temporal UI, through the codec server that
`claims run` starts and wires to the UI (`--ui-codec-endpoint`); anyone else sees ciphertext.

Debian's chromium (headless, playwright) opens a claim's page in the dev server's UI: before
anything is set up the reporter's mobile number is nowhere on the page. Then it follows only the
steps `claims run` prints and the README gives (issue 15.7; cli.serve.ui_codec_steps): sign in at
the codec server's /login with a staff token of a role that sees personal data (an HttpOnly,
SameSite=Lax cookie), then in the UI click the data-encoder icon, choose "Use my browser setting",
keep the endpoint, tick "Include cross-origin credentials", Apply; the claim then shows decoded.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.async_api import Page, async_playwright

from cli.serve import ui_codec_steps
from dev.scenarios import sample_reports
from security.auth import Role, local_tokens
from tests.api.test_temporal_ui_browser import CHROMIUM, CHROMIUM_ARGS
from tests.helpers import eventually
from tests.helpers.running import Service, luhn
from tests.workflows.helpers import unique_prefix
from workflows.messages import claim_workflow_id


async def page_text(page: Page) -> str:
    return await page.evaluate("document.body.innerText")


async def test_issue_5_staff_signed_in_at_the_codec_server_read_the_claim_in_the_ui(service: Service) -> None:
    assert CHROMIUM.exists(), "chromium is missing: run scripts/ensure-chromium.sh (make test does)"
    phone = "13977059876"
    report = sample_reports(unique_prefix(), datetime.now(UTC))["B"].model_copy(
        update={"reporter_phone": phone, "payee_account": luhn("621700445500002")}
    )
    agent = local_tokens(service.settings.auth, service.settings.data_dir).issue("AG01", {Role.AGENT})
    created = httpx.post(
        f"{service.api}/claims", json=report.model_dump(mode="json"), headers={"Authorization": f"Bearer {agent}"}, timeout=30
    )
    assert created.status_code == 201, created.text
    staff = local_tokens(service.settings.auth, service.settings.data_dir).issue("AG01", {Role.AGENT})
    ui = service.ui.replace("127.0.0.1", "localhost")  # one host name for the UI, the codec server and its cookie
    claim_page = f"{ui}/namespaces/default/workflows/{claim_workflow_id(report.report_no)}"
    steps = "\n".join(ui_codec_steps(service.settings))
    for said in (
        f"sign in at {service.codec}/login",
        "data-encoder icon",
        "Use my browser setting",
        "Include cross-origin credentials",
        "Apply; reload the page",
    ):
        assert said in steps, said
    assert f"sign in at {service.codec}/login" in service.log.read_text(errors="replace")  # `claims run` printed them

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            page = await context.new_page()
            decode_answers: list[int] = []
            page.on(
                "response", lambda r: decode_answers.append(r.status) if r.url.startswith(f"{service.codec}/decode") else None
            )

            # nothing set up: the UI asks the codec server, is refused, and shows no personal data
            await page.goto(claim_page, wait_until="domcontentloaded", timeout=30_000)
            await page.get_by_text(report.report_no).first.wait_for(timeout=30_000)

            async def answers() -> list[int]:
                return decode_answers

            await eventually(answers, bool, 10, "the UI to ask the codec server to decode")
            assert 401 in decode_answers, decode_answers
            assert phone not in await page_text(page)

            # step 1: sign in once at the codec server with the staff token
            await page.goto(f"{service.codec}/login")
            await page.fill("textarea[name=token]", staff)
            await page.click("button")
            await page.get_by_text("Signed in as").wait_for(timeout=10_000)
            cookie = next(c for c in await context.cookies() if c["name"] == "premium_claims_codec")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

            # step 2: in the UI, the data-encoder icon, the browser setting, the endpoint, credentials, Apply
            await page.goto(claim_page, wait_until="domcontentloaded", timeout=30_000)
            await (
                page.get_by_test_id("data-encoder-status-configured")
                .or_(page.get_by_test_id("data-encoder-status-error"))
                .first.click()
            )
            dialog = page.get_by_role("dialog").filter(has_text="Codec Server")
            await dialog.get_by_text("Use my browser setting").click()
            endpoint = dialog.get_by_placeholder("Paste your endpoint here")
            if await endpoint.input_value() != service.codec:
                await endpoint.fill(service.codec)
            await dialog.get_by_text("Include cross-origin credentials").click()
            decode_answers.clear()
            await dialog.get_by_test_id("confirm-modal-button").click()
            await dialog.wait_for(state="hidden", timeout=10_000)
            await page.reload(wait_until="domcontentloaded")

            # the same page shows the claim decoded
            async def decoded() -> bool:  # the UI's CSP forbids wait_for_function's eval: poll the text
                return phone in await page_text(page)

            try:
                await eventually(decoded, bool, 30, "the UI to show the decoded claim")
            except AssertionError as timed_out:
                await page.screenshot(path=str(service.log.with_name("ui-not-decoded.png")), full_page=True)
                pytest.fail(f"{timed_out}; codec answers {decode_answers}")
            assert 200 in decode_answers
        finally:
            await browser.close()
