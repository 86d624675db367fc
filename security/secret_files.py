"""Local secret files for the embedded default: made once, readable by the owner only.

Production gives keys and signing secrets through settings (environment or a mounted file);
these files exist so that `claims run` on one machine works without anyone typing a key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create_secret(path: Path, nbytes: int = 32) -> bytes:
    """The bytes in `path`, or fresh random bytes written there with mode 0600 on first use."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise PermissionError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
        data = path.read_bytes().strip()
        if not data:
            raise ValueError(f"{path} is empty")
        return bytes.fromhex(data.decode("ascii"))
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(nbytes)
    # Written aside, then linked into place: a second process starting at the same moment either
    # wins the link or reads the complete file of the first; never a half-written or replaced key.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value.hex() + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        return read_or_create_secret(path, nbytes)
    finally:
        tmp.unlink()
    return value
