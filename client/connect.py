"""The Temporal client the worker, the API, the CLI, the bench and the tests share."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from config.settings import Settings, load_settings
from security.codec import converter_from_settings


def data_converter_for(settings: Settings) -> DataConverter:
    """The project's converter for these settings: pydantic values, every payload and failure
    message encrypted with the settings' keys (security/codec.py)."""
    return converter_from_settings(settings.codec, settings.data_dir)


async def connect(
    address: str,
    namespace: str = "default",
    runtime: Runtime | None = None,
    data_converter: DataConverter | None = None,
) -> Client:
    """A client with the project's data converter (default: from this process's settings, i.e. the
    environment); a worker passes the runtime that exports metrics. The worker, the API, the CLI
    and the tests all get their clients here, so none of them talks to Temporal in clear."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter or data_converter_for(load_settings()),
        runtime=runtime or Runtime.default(),
    )


async def connect_with_settings(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client to the settings' cluster and namespace, with their data converter."""
    return await connect(settings.temporal_address, settings.namespace, runtime, data_converter_for(settings))
