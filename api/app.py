"""The HTTP front for claims staff and outside systems (FastAPI; OpenAPI docs at /docs).

It validates, then talks to Temporal through the client: it starts claims, answers human steps
through the track workflows' updates, reads claims by query, lists them from visibility, and puts
photos and documents in the file store. It looks nothing up itself.

The app is its routers over one Temporal connection (api/connection.py): health (api/health.py),
claims and steps (api/claims.py), files (api/files.py), the calendar (api/calendar.py) and the
operations view (api/operations.py; its numbers from client/operations.py, its page's stylesheet
from api/static/). Every error is {"code", "message"} (api/errors.py).

Every route but /health, /ready and the docs needs a staff token (api/guard.py: 401, 429, 413
before any body is read); each route then allows only its roles (api/access.py over
security/permissions.py: 403), a step is recorded as done by the token's subject, and the claim
and track views mask personal data for the roles that do not need it (api/views.py).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from temporalio.client import Client

from activities.staff import JsonStaffDirectory
from activities.store import Documents
from api.access import allowed
from api.calendar import calendar_router
from api.claims import claims_router
from api.connection import Temporal, TemporalConnection
from api.customer import customer_router
from api.docs import add_offline_docs
from api.errors import ERRORS, install_error_handlers
from api.files import files_router
from api.guard import STATIC_PATH, Guard, Limits
from api.health import health_router
from api.operations import STATIC_DIR, operations_router
from api.work import work_router
from client.customer import StaffDirectory
from client.deliveries import SmsDeliveries
from client.visibility import VisibilityBudget
from config.settings import TASK_QUEUE
from domain.rules import RuleSettings
from security.auth import Authenticator
from security.customer_links import CustomerLinks
from security.permissions import Action


def create_app(
    client: Client | None = None,
    *,
    task_queue: str = TASK_QUEUE,
    store: Documents,
    authenticator: Authenticator,
    limits: Limits | None = None,
    connect: Temporal | None = None,
    answer_seconds: float = 5.0,
    rules: Callable[[], RuleSettings] = RuleSettings,
    temporal_ui_url: str = "http://localhost:8233",
    visibility_budget: VisibilityBudget | None = None,
    operations_share_seconds: float = 0,
    customer_links: CustomerLinks | None = None,
    staff: StaffDirectory | None = None,
    sms_deliveries: SmsDeliveries | None = None,
) -> FastAPI:
    """The app over an injected Temporal client (tests) or one made by `connect` on first use;
    callers are checked by `authenticator` (settings: local tokens or the identity provider).
    A report waits up to `answer_seconds` for its claim's decision (settings.report_answer_seconds);
    `rules` gives the rules in force, for the calendar (default: the built-in ones)."""
    temporal = TemporalConnection(client, connect)
    app = FastAPI(
        title="premium-claims",
        summary="Premium-customer motor claims: report, take human steps, upload documents, read and list claims.",
        version="1",
        responses=ERRORS,
        docs_url=None,  # /docs and /redoc on local assets (api/docs.py): nothing from a CDN
        redoc_url=None,
    )
    add_offline_docs(app)
    install_error_handlers(app)
    app.include_router(health_router(temporal))
    app.include_router(claims_router(temporal, task_queue, answer_seconds, sms_deliveries))
    app.include_router(files_router(store))
    app.include_router(calendar_router(rules, [Depends(allowed(Action.READ))]))
    app.include_router(
        operations_router(
            temporal, authenticator, temporal_ui_url, budget=visibility_budget, share_seconds=operations_share_seconds
        )
    )
    # the work queue and its pages (issue 24): its visibility call from the same budget
    app.include_router(work_router(temporal, authenticator, store, budget=visibility_budget))
    # the customer's page (issue 24): none without a link key (it then refuses every link)
    app.include_router(customer_router(temporal, customer_links, staff or JsonStaffDirectory(), limits or Limits()))
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    # before any body is read: 401 unknown caller, 429 too many requests, 413 too large a body
    app.add_middleware(Guard, authenticator=authenticator, limits=limits or Limits(), upload_max_bytes=store.max_bytes)
    return app
