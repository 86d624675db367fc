"""The HTTP front (FastAPI): `create_app` for an injected client, `app_from_settings` for a process."""

from api.app import create_app
from api.server import app_from_settings, serve

__all__ = ["app_from_settings", "create_app", "serve"]
