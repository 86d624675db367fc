"""Issue 21.8: the Temporal connection's TLS, mTLS and API-key settings reach the SDK as a
secured frontend or Temporal Cloud needs them; half a client certificate is refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from client.connect import tls_config
from config.settings import SettingsError, TemporalTLS, load_settings

pytestmark = pytest.mark.unit


def test_in_clear_unless_something_is_set() -> None:
    assert tls_config(TemporalTLS()) is False
    assert isinstance(tls_config(TemporalTLS(enabled=True)), TLSConfig)  # the system's roots


def test_mtls_files_and_server_name_reach_the_sdk(tmp_path: Path) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(name.encode())
    config = tls_config(
        TemporalTLS(
            ca_file=tmp_path / "ca.pem",
            cert_file=tmp_path / "client.pem",
            key_file=tmp_path / "client.key",
            server_name="temporal",
        )
    )
    assert isinstance(config, TLSConfig)
    assert (config.server_root_ca_cert, config.client_cert, config.client_private_key, config.domain) == (
        b"ca.pem",
        b"client.pem",
        b"client.key",
        "temporal",
    )


def test_settings_from_the_environment(tmp_path: Path) -> None:
    (tmp_path / "empty.toml").write_text("")
    environ = {"PREMIUM_CLAIMS_TEMPORAL_TLS__CA_FILE": str(tmp_path / "ca.pem"), "PREMIUM_CLAIMS_TEMPORAL_API_KEY": "k"}
    settings = load_settings(tmp_path / "empty.toml", environ=environ)
    assert settings.temporal_tls.on and settings.temporal_tls.ca_file == tmp_path / "ca.pem"
    assert settings.temporal_api_key == "k"


def test_a_certificate_without_its_key_is_refused_naming_the_variable(tmp_path: Path) -> None:
    (tmp_path / "empty.toml").write_text("")
    with pytest.raises(SettingsError, match=r"PREMIUM_CLAIMS_TEMPORAL_TLS__CERT_FILE: .*set both cert_file and key_file"):
        load_settings(tmp_path / "empty.toml", environ={"PREMIUM_CLAIMS_TEMPORAL_TLS__CERT_FILE": str(tmp_path / "c.pem")})
