"""Stopping a process this project started (the servers of dev/, the benchmarks' processes)."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen | None, timeout: float) -> None:
    """SIGTERM a process still running, then SIGKILL it if it has not left within `timeout` s."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
