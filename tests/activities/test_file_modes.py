"""Issue 15.8: the embedded systems' files hold names, phones, ID numbers and accounts in clear, so
they are owner-only like secrets/: the core system, the payment ledger, the SMS outbox and the
callback book (with SQLite's -wal and -shm files) are 0600, the data folder 0700; a file made
0644 by an earlier version is made owner-only when it is opened."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

from activities import open_embedded
from gateway.bank import open_bank

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "core.json"
FILES = ("core.sqlite3", "payments.sqlite3", "sms.sqlite3", "callbacks.sqlite3")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_issue_15_files_with_personal_data_are_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "run"
    old_umask = os.umask(0o022)  # what a shell usually has: new files 0644 unless made otherwise
    try:
        systems = open_embedded(data_dir)
        open_bank(data_dir)  # the stand-in bank's ledger (gateway/) holds payee accounts
        with sqlite3.connect(data_dir / "core.sqlite3") as reader:  # held open: the -wal and -shm stay
            reader.execute("SELECT COUNT(*) FROM policies").fetchone()
            systems.core.load_file(SAMPLE)
            for name in FILES:
                assert mode(data_dir / name) == 0o600, f"{name} is {mode(data_dir / name):o}"
            for part in ("core.sqlite3-wal", "core.sqlite3-shm"):
                assert mode(data_dir / part) == 0o600, f"{part} is {mode(data_dir / part):o}"
    finally:
        os.umask(old_umask)
    assert mode(data_dir) == 0o700


def test_issue_15_a_database_left_readable_by_others_is_made_owner_only(tmp_path: Path) -> None:
    open_embedded(tmp_path)
    (tmp_path / "core.sqlite3").chmod(0o644)
    tmp_path.chmod(0o755)
    open_embedded(tmp_path)
    assert mode(tmp_path / "core.sqlite3") == 0o600
    assert mode(tmp_path) == 0o700
