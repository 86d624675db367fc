"""The Temporal client the worker, the API, the CLI, the bench and the tests share."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from config.settings import Settings, TemporalTLS, load_settings
from security.codec import converter_from_settings


def data_converter_for(settings: Settings) -> DataConverter:
    """The project's converter for these settings: pydantic values, every payload and failure
    message encrypted with the settings' keys (security/codec.py)."""
    return converter_from_settings(settings.codec, settings.data_dir)


def tls_config(tls: TemporalTLS) -> TLSConfig | bool:
    """The SDK's TLS configuration for these settings; False when the connection is in clear."""
    if not tls.on:
        return False
    return TLSConfig(
        server_root_ca_cert=tls.ca_file.read_bytes() if tls.ca_file else None,
        client_cert=tls.cert_file.read_bytes() if tls.cert_file else None,
        client_private_key=tls.key_file.read_bytes() if tls.key_file else None,
        domain=tls.server_name,
    )


async def connect(
    address: str,
    namespace: str = "default",
    runtime: Runtime | None = None,
    data_converter: DataConverter | None = None,
    *,
    tls: TemporalTLS | None = None,
    api_key: str | None = None,
) -> Client:
    """A client with the project's data converter (default: from this process's settings, i.e. the
    environment); a worker passes the runtime that exports metrics. The worker, the API, the CLI
    and the tests all get their clients here, so none of them talks to Temporal in clear."""
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter or data_converter_for(load_settings()),
        runtime=runtime or Runtime.default(),
        tls=tls_config(tls) if tls is not None else False,
        api_key=api_key,
    )


async def connect_with_settings(settings: Settings, runtime: Runtime | None = None) -> Client:
    """A client to the settings' cluster and namespace, with their data converter and TLS."""
    return await connect(
        settings.temporal_address,
        settings.namespace,
        runtime,
        data_converter_for(settings),
        tls=settings.temporal_tls,
        api_key=settings.temporal_api_key,
    )
