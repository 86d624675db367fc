"""A small payment gateway service: the stand-in for the bank's gateway, with its failure modes.

`python -m gateway --port N --db PATH [--fail-rate 0.3 --seed 7]` serves HTTP on 127.0.0.1 over
the SQLite ledger of activities.payments; see gateway.server.
"""
