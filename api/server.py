"""Running the API in a process: the app from the settings, served by uvicorn in the current loop
(so `claims run` serves it beside the worker)."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI
from temporalio.client import Client

from activities import open_documents, open_stores
from activities.staff import JsonStaffDirectory
from api.app import create_app
from api.guard import Limits
from client.connect import connect_with_settings
from client.visibility import VisibilityBudget
from config.serving import serve_until, uvicorn_config
from config.settings import Settings
from security.auth import authenticator


def app_from_settings(settings: Settings, client: Client | None = None) -> FastAPI:
    """The app over the settings' Temporal (connected on first use, so the API starts while
    Temporal is down and /ready says so), the document store (the folder under the data directory, or the object store), and the
    settings' token verifier (local secret, or the identity provider) and request limits."""
    return create_app(
        client,
        task_queue=settings.task_queue,
        store=open_documents(settings),  # the local folder, or the object store every host shares
        sms_deliveries=open_stores(settings).sms.notes_for_report,  # the relay's status on each claim's timeline
        authenticator=authenticator(settings.auth, settings.data_dir),
        limits=Limits(
            max_body_bytes=settings.api_max_body_bytes,
            rate_per_minute=settings.api_rate_per_minute,
            rate_burst=settings.api_rate_burst,
        ),
        answer_seconds=settings.report_answer_seconds,
        # the API reads and writes claims encrypted too (security/codec.py)
        connect=lambda: connect_with_settings(settings),
        rules=settings.current_rules,  # GET /calendar/due: the overrides file as new claims read it
        temporal_ui_url=settings.ui_url(),
        # within the cluster's visibility limit: one budget for this process, one summary for all viewers
        visibility_budget=VisibilityBudget(settings.visibility_calls_per_second, settings.visibility_burst),
        operations_share_seconds=settings.operations_share_seconds,
        customer_links=settings.customer_links(),  # the customer's page checks the links the worker signs
        staff=JsonStaffDirectory(settings.staff_directory),  # the customer's contact: name and work phone
    )


def api_urls(settings: Settings) -> tuple[str, str]:
    base = f"http://{settings.api_host}:{settings.api_port}"
    return base, f"{base}/docs"


async def serve(settings: Settings, app: FastAPI, stop: asyncio.Event | None = None) -> None:
    """Serve until SIGINT/SIGTERM, or, when `stop` is given, until it is set (the caller owns the
    signals: `claims run` stops the API and the worker together)."""
    config = uvicorn_config(app, host=settings.api_host, port=settings.api_port, lifespan="on")
    await serve_until(uvicorn.Server(config), stop, f"the API on {settings.api_host}:{settings.api_port}")
