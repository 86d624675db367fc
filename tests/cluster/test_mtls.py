"""Issue 21.8: the cluster lane's frontend asks every client for a certificate signed by the
cluster's CA; the service reaches it with the TLS settings (PREMIUM_CLAIMS_TEMPORAL_TLS__…)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from client.connect import connect
from config.settings import TemporalTLS
from dev.certs import SERVER_NAME, issue, new_ca
from dev.cluster import Cluster

pytestmark = pytest.mark.cluster


async def _reaches(cluster: Cluster, tls: TemporalTLS | None) -> bool:
    try:
        client = await connect(cluster.address, "default", tls=tls)
        await client.count_workflows()
    except RuntimeError:  # the SDK's "Failed client connect": the handshake was refused
        return False
    return True


async def test_the_service_with_its_certificate_reaches_the_cluster(cluster: Cluster) -> None:
    assert await _reaches(cluster, cluster.client_tls())


async def test_a_client_without_a_certificate_is_refused(cluster: Cluster) -> None:
    certs = cluster.certs
    assert certs is not None
    assert not await _reaches(cluster, TemporalTLS(ca_file=certs.ca, server_name=SERVER_NAME))  # TLS, no client certificate
    assert not await _reaches(cluster, None)  # in clear


async def test_a_certificate_from_another_ca_is_refused(cluster: Cluster, tmp_path) -> None:
    certs = cluster.certs
    assert certs is not None
    stranger_ca, stranger_key = new_ca("someone else's CA")
    cert, key = issue(stranger_ca, stranger_key, "intruder", server=False)
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "c.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    tls = TemporalTLS(ca_file=certs.ca, cert_file=tmp_path / "c.pem", key_file=tmp_path / "c.key", server_name=SERVER_NAME)
    assert not await _reaches(cluster, tls)
