"""Issue 21.5, test-sized: viewers of the operations page stay within the real cluster's
visibility limit (frontend.namespaceRPS.visibility, 10/s), measured from the frontend's own
metrics. The full run (20 viewers, with the run as before beside it) is `python -m bench.viewers`."""

from __future__ import annotations

import pytest

from bench.viewers import LIMIT, view
from dev.cluster import Cluster

pytestmark = pytest.mark.cluster


async def test_ten_viewers_share_one_summary_within_the_limit(cluster: Cluster, tmp_path) -> None:
    run = await view(cluster, tmp_path, mode="shared", viewers=10, seconds=20, refresh=5)
    assert run.failed_pages == 0 and run.pages >= 10, run.line()
    assert run.refused == 0, run.line()
    assert run.max_in_one_second <= LIMIT, run.line()
    assert run.calls > 0, run.line()  # the frontend did count the page's calls: the check can fail
