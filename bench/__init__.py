"""Fault runs: the claim program under a killed worker and a failing payment gateway (R-X-3).

    .venv/bin/python -m bench.kill_worker     --claims 60 --kills 50
    .venv/bin/python -m bench.flaky_gateway   --claims 200 --fail-rate 0.3 --declines 10

Each prints its counts (claims, attempts, payments, duplicates, lost) and exits non-zero when
a claim was paid twice or not at all. tests/faults/ runs short forms of both.
"""
