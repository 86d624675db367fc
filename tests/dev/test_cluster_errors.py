"""Issue 21.1: `claims cluster up` fails with a sentence that says what to do: no Go, a port in
use, PostgreSQL refused."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from config.settings import ClusterSettings
from dev import gobuild
from dev.cluster import Cluster, ClusterError
from dev.postgres import PostgresError, ensure_started

pytestmark = pytest.mark.unit


def test_no_go_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(gobuild.shutil, "which", lambda _: None)
    monkeypatch.setattr(gobuild, "GO_FALLBACK", tmp_path / "no-go")
    with pytest.raises(gobuild.BuildError, match=r"Go is not installed.*Go 1\.25 or newer.*`make run`\) needs no Go"):
        gobuild.go_binary()


def test_a_port_in_use_is_named_with_the_setting_that_moves_it(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        cluster = Cluster(ClusterSettings(home=tmp_path, base_port=port - 33), say=lambda _: None)  # the frontend's port
        with pytest.raises(ClusterError, match=rf"port {port} \(frontend\) is in use.*PREMIUM_CLAIMS_CLUSTER__BASE_PORT"):
            cluster.start("frontend")


def test_an_unknown_service_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    with pytest.raises(ClusterError, match=r"no service 'history-9'.*history-1, history-2"):
        Cluster(ClusterSettings(home=tmp_path), say=lambda _: None).start("history-9")


def test_postgresql_on_a_taken_port_is_refused_plainly() -> None:
    folder = Path(tempfile.mkdtemp(prefix="pg-port-"))
    folder.chmod(0o711)  # PostgreSQL's own account must reach its folder under root
    try:
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            with pytest.raises(PostgresError, match=rf"port {port} is in use"):
                ensure_started(folder / "pg", port)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another account")
def test_a_folder_postgresql_cannot_reach_is_named(tmp_path: Path) -> None:
    """pytest's own folders are owner-only: the server's account cannot get through them."""
    with pytest.raises(PostgresError, match=r"cannot reach .*chmod o\+x"):
        ensure_started(tmp_path / "pg", 5999)
