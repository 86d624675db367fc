"""Issue 15.9: the fault runs and the capacity benchmark show progress (claims done / total,
elapsed) on a terminal, and print nothing of it elsewhere (logs, CI)."""

from __future__ import annotations

import asyncio
import io

from bench.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_issue_15_progress_on_a_terminal_counts_claims_and_elapsed_time() -> None:
    now = [100.0]
    screen = Terminal()
    progress = Progress(3, "claims paid", stream=screen, clock=lambda: now[0])
    for _ in range(3):
        now[0] += 0.6
        asyncio.run(progress.counted(asyncio.sleep(0)))
    shown = screen.getvalue()
    assert "claims paid: 1/3 done, 1 s elapsed" in shown
    assert shown.endswith("claims paid: 3/3 done, 2 s elapsed\n")  # 2/3 came within a second of 1/3
    assert "2/3" not in shown


def test_issue_15_no_progress_off_a_terminal() -> None:
    log = io.StringIO()
    progress = Progress(2, stream=log)
    progress.step()
    progress.step()
    assert log.getvalue() == "" and progress.count == 2
