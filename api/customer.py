"""The customer's own page of their claim (issue 24): `GET /customer/<report number>?t=<token>`,
the link of the one SMS a claim sends on report (activities/sms.py). No account, no password: the
token is signed for this report number and expires (security/customer_links.py); a forged,
altered, expired or other claim's link gets one plain refusal, the same for all, and no data.

Simplified Chinese with English beside it. It says which service the customer has and what it
promises, what is still missing and how to hand it in, who their contact is (injury specialist or
expert lead: name and work phone), whether and when they were paid (the account by its last four
digits) and the satisfaction callback. Read from the claim as it is now (client/customer.py), so
it is always current and no later step needs another SMS.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations.
from collections.abc import Awaitable, Callable

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.guard import Limits, TokenBuckets
from api.work import PAGE_HEADERS, TEMPLATES
from client.customer import CustomerView, Service, StaffDirectory, customer_view
from domain.models import DocumentChannel, DocumentType, Track
from security.customer_links import PATH_PREFIX, CustomerLinks, LinkRefused
from workflows.messages import Stage

log = structlog.get_logger("premium_claims.api")

SERVICE = {
    Track.AUTHORISATION: ("小额案件授权", "Small-claim authorisation"),
    Track.CREDIT: ("小额案件授信", "Small-claim credit"),
    Track.EXPERT_TEAM: ("大额赔案专家团队支持", "Large-claim expert team"),
    Track.INJURY: ("人伤案件全程通", "Injury one-to-one service"),
}

STAGE = {
    Stage.DECIDING: ("正在受理", "being registered"),
    Stage.AWAITING_ACCEPTANCE: ("等待您确认是否接受该服务", "waiting for you to accept the service"),
    Stage.AWAITING_SCENE_ESTIMATE: ("查勘人员正在协助您拍照估损", "the surveyor is helping you photograph and estimate the loss"),
    Stage.AWAITING_CAR_AT_SHOP: ("请将车辆送至修理厂", "please take the car to the repair shop"),
    Stage.AWAITING_PHOTOS: ("定损人员正在上传您拍摄的照片", "the loss assessor is uploading your photos"),
    Stage.AWAITING_EXPERT_LEAD: ("分公司专家团队正在指定负责人", "the branch's expert team is naming your lead"),
    Stage.AWAITING_LEAD_CONTACT: ("负责人将与您联系", "your lead will contact you"),
    Stage.AWAITING_TEAM: ("负责人正在组建服务团队", "your lead is staffing the team"),
    Stage.AWAITING_SERVICE_ITEMS: ("专家团队正在为您服务", "the expert team is serving you"),
    Stage.AWAITING_SPECIALIST_CALL: ("人伤服务专员将致电您", "the injury specialist will call you"),
    Stage.AWAITING_DOCUMENTS: ("等待单证齐全与定损", "waiting for the documents and the loss assessment"),
    Stage.PAYING: ("正在支付赔款", "the indemnity is being paid"),
    Stage.AWAITING_PAYEE_ACCOUNT: (
        "赔款未能支付到账户，请致电95500提供您本人账户",
        "the payment did not go through: call 95500 with your own account",
    ),
    Stage.AWAITING_CASE_CLOSURE: ("人伤服务专员跟进至结案", "the injury specialist follows up until the case is done"),
    Stage.AWAITING_CALLBACK: ("已赔付，客户服务中心将回访您", "paid; the service centre will call you back"),
    Stage.CLOSED: ("已结案", "closed"),
    Stage.DECLINED: ("您未选择该服务，按普通理赔流程处理", "you did not take the service; the ordinary claim process handles it"),
    Stage.TRANSFERRED: ("已转普通理赔流程", "handed to the ordinary claim process"),
    Stage.ORDINARY: ("按普通理赔流程处理", "the ordinary claim process handles it"),
    Stage.REFUSED: ("报案信息有误，请致电95500", "the report could not be placed: call 95500"),
    Stage.IN_SERVICE: ("服务中", "in service"),
}

DOCUMENT = {
    DocumentType.CLAIM_FORM: ("索赔申请书", "claim form"),
    DocumentType.DRIVING_LICENCE: ("驾驶证", "driving licence"),
    DocumentType.VEHICLE_LICENCE: ("行驶证", "vehicle licence"),
    DocumentType.LOSS_PHOTOS: ("损失照片", "loss photos"),
    DocumentType.VEHICLE_INSPECTION: ("验标照片", "vehicle inspection"),
    DocumentType.REPAIR_LIST: ("维修清单", "repair list"),
    DocumentType.REPAIR_INVOICE: ("维修发票", "repair invoice"),
    DocumentType.PAYEE_BANK_CARD: ("本人银行卡或转账授权", "your own bank card or a transfer authorisation"),
    DocumentType.POLICE_CERTIFICATE: ("交警事故证明", "traffic police accident certificate"),
    DocumentType.OTHER_VEHICLE_REPAIR_LIST: ("对方车辆维修清单", "the other vehicle's repair list"),
    DocumentType.OTHER_VEHICLE_REPAIR_INVOICE: ("对方车辆维修发票", "the other vehicle's repair invoice"),
    DocumentType.LIABILITY_FINDING: ("责任认定书或调解书", "liability finding or mediation agreement"),
    DocumentType.MEDICAL_RECORDS: ("病历", "medical records"),
    DocumentType.MEDICAL_INVOICES: ("医疗费发票", "medical invoices"),
}

CHANNEL = {
    DocumentChannel.SELF: ("您本人递交", "hand them in yourself"),
    DocumentChannel.DELEGATE: ("委托他人递交", "send someone you authorise"),
    DocumentChannel.DOOR_PICKUP: ("预约上门收单（致电95500）", "ask for a door pickup (call 95500)"),
    DocumentChannel.ASSESSOR_AT_SHOP: ("在修理厂交给定损人员", "give them to our loss assessor at the repair shop"),
}

CONTACT_ROLE = {"injury_specialist": ("人伤服务专员", "injury specialist"), "expert_lead": ("专家团队负责人", "expert team lead")}


def promise(service: Service) -> tuple[str, str]:
    """What the service promises (R-A-6, R-B-5, R-C-2..R-C-5, R-D-2), with the claim's own settings."""
    track = service.track
    if track is Track.AUTHORISATION:
        days = service.payment_working_days
        return (f"单证齐全后{days}个工作日内支付赔款", f"paid within {days} working day(s) of complete documents")
    if track is Track.CREDIT:
        return ("单证齐全当天支付赔款，无需等待查勘", "paid the same day your documents are complete; no waiting for a survey")
    if track is Track.EXPERT_TEAM:
        return (
            "专家团队与专属服务通道，负责人全程跟进",
            "an expert team and a dedicated service channel, your lead at your side",
        )
    minutes = service.specialist_minutes
    return (
        f"人伤服务专员{minutes}分钟内致电，一对一服务至结案",
        f"an injury specialist calls within {minutes} minutes and stays with you to the end",
    )


REFUSAL = "<p class=zh>链接无效或已过期。请致电95500查询理赔进度。<span class=en>This link is not valid or has expired. Please call 95500.</span></p>"


def customer_router(
    temporal: Callable[[], Awaitable[Client]], links: CustomerLinks | None, staff: StaffDirectory, limits: Limits
) -> APIRouter:
    """The page's route; each address may open it an eighth as often as a staff caller may call
    the API (`limits`: by default 30 a minute, 20 at once)."""
    router = APIRouter()
    # the page takes no staff token, so the guard does not limit it: each address may open it a
    # few times a minute (a page reads the claim and its tracks), guessing links included
    buckets = TokenBuckets(rate_per_minute=limits.rate_per_minute / 8, burst=max(1, limits.rate_burst // 3))

    def refused() -> HTMLResponse:
        # one answer for a forged, altered, expired or other claim's link: nothing to tell them apart
        body = (
            "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>理赔进度 · Your claim</title>"
            f'<link rel="stylesheet" href="/static/people.css"></head><body><main>{REFUSAL}</main></body></html>'
        )
        return HTMLResponse(body, status_code=403, headers=PAGE_HEADERS)

    @router.get(PATH_PREFIX + "{report_no}", response_class=HTMLResponse, include_in_schema=False)
    async def page(request: Request, report_no: str, t: str | None = None) -> HTMLResponse:
        wait = buckets.take(request.client.host if request.client else "-")
        if wait:
            return HTMLResponse(
                "<!doctype html><meta charset=utf-8><p>请稍后再试。Please try again shortly.</p>",
                status_code=429,
                headers={**PAGE_HEADERS, "Retry-After": str(max(1, int(wait) + 1))},
            )
        if links is None:
            return refused()
        try:
            links.check(report_no, t)
        except LinkRefused as err:
            log.info("api.customer_link_refused", reason=str(err))  # no report number: it may be forged
            return refused()
        client = await temporal()
        try:
            view: CustomerView = await customer_view(client, report_no, staff)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return refused()
            raise
        log.info("api.customer_page", report_no=report_no)
        context = {
            "view": view,
            "service": SERVICE,
            "stage": STAGE,
            "document": DOCUMENT,
            "channel": CHANNEL,
            "contact_role": CONTACT_ROLE,
            "promise": promise,
        }
        return TEMPLATES.TemplateResponse(request, "customer.html", context, headers=PAGE_HEADERS)

    return router
