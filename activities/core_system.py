"""The insurer's core system (P17 in SPEC R-ID-2): customers, policies and the reports on them.

`CoreSystem` is the interface the activities need; `SqliteCoreSystem` is the embedded default, a
SQLite file. Production plugs in a client of the real core system behind the same interface.

Looking a policy up for a report also registers the report against the policy (idempotent on the
report number, R-X-2), which is how the core system knows prior claims for R-EL-1.2: another
report on the same policy counts as prior when its report date (China time) is inside the policy
period and it was reported earlier than this one or registered before it. So a repeat counts as
its first lookup did, and of reports arriving together exactly one is the first claim. (Only a
late-delivered report with an earlier time can raise the count a repeat returns: on the safe side.)

Data is loaded from a JSON file shaped like `CoreData` (see data/sample/core.json)::

    {
      "customers": [
        {"customer_id": "C0001", "name": "测试客户一", "kind": "individual", "gender": "male",
         "premium_tag": "钻石(-3)成功男士", "mobile": "13800000001", "id_number": "110105198001010112"}
      ],
      "policies": [
        {"policy_no": "P2026000001", "customer_id": "C0001",
         "period_start": "2026-01-01", "period_end": "2026-12-31",
         "coverages": ["compulsory", "vehicle_damage", "third_party",
                       "waiver_vehicle_damage", "waiver_third_party"],
         "reform_2020": false, "consecutive_commercial_years": 3,
         "vehicle_first_registered": "2019-05-20", "plate": "京A·F0001",
         "insured_bank_account": "6222000000000017", "branch": "HQ"}
      ]
    }

The fields are those of `domain.models.Customer` and `domain.models.Policy`; loading upserts by
`customer_id` and `policy_no`. Every policy's customer must be in the file or already loaded.
Identifiers are checked and normalised on the way in (domain/identifiers.py): a customer's
mobile, an individual's resident ID number (a corporate customer's is its unified social credit
code), a policy's plate and insured bank account. One bad record refuses the whole load, and the
error names every bad record by index and ID, and the field (never the value).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

import structlog
from pydantic import Field
from temporalio import activity

from activities.errors import REPORT_CONFLICT, refusal
from activities.sqlite import connection, create_database, from_utc_text, to_utc_text, utc_now, write_transaction
from domain.contracts import (
    POLICY_NOT_FOUND,
    ActivityName,
    InsuredAccountInput,
    InsuredAccountResult,
    LookupPolicyInput,
    LookupPolicyResult,
)
from domain.identifiers import (
    IdentifierError,
    normalise_bank_account,
    normalise_credit_code,
    normalise_id_number,
    normalise_mobile,
    normalise_plate,
)
from domain.models import ClaimHistory, Customer, CustomerKind, Frozen, Policy
from domain.rules import CHINA_TZ

log = structlog.get_logger(__name__)


class CoreData(Frozen):
    """The shape of a core-system data file."""

    customers: list[Customer] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)


class CoreDataRefused(ValueError):
    """Records that fail the identifier checks; nothing of the load was written."""

    MAX_LISTED = 20

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "; ".join(problems[: self.MAX_LISTED])
        more = f"; and {len(problems) - self.MAX_LISTED} more" if len(problems) > self.MAX_LISTED else ""
        super().__init__(f"refused, nothing loaded: {len(problems)} invalid field(s): {listed}{more}")


def checked(records: CoreData) -> CoreData:
    """The records with their identifiers normalised, or CoreDataRefused naming every bad field."""
    problems: list[str] = []

    def fix(where: str, record: Frozen, checks: dict[str, Callable[[str], str]]) -> dict[str, str]:
        changes: dict[str, str] = {}
        for field, normalise in checks.items():
            value = getattr(record, field)
            if value is None:
                continue
            try:
                changes[field] = normalise(value)
            except IdentifierError as err:
                problems.append(f"{where}: {field}: {err}")
        return changes

    customers = [
        c.model_copy(
            update=fix(
                f"customers[{i}] ({c.customer_id})",
                c,
                {
                    "mobile": normalise_mobile,
                    "id_number": normalise_credit_code if c.kind is CustomerKind.CORPORATE else normalise_id_number,
                },
            )
        )
        for i, c in enumerate(records.customers)
    ]
    policies = [
        p.model_copy(
            update=fix(
                f"policies[{i}] ({p.policy_no})",
                p,
                {"plate": normalise_plate, "insured_bank_account": normalise_bank_account},
            )
        )
        for i, p in enumerate(records.policies)
    ]
    if problems:
        raise CoreDataRefused(problems)
    return CoreData(customers=customers, policies=policies)


class LoadStats(Frozen):
    customers_added: int = 0
    customers_updated: int = 0
    policies_added: int = 0
    policies_updated: int = 0


class CoreSystem(Protocol):
    def lookup(self, input: LookupPolicyInput) -> LookupPolicyResult:
        """The policy, its insured and the prior claims this period; registers the report.

        Raises ApplicationError(type=POLICY_NOT_FOUND, non_retryable=True) for an unknown policy.
        """
        ...

    def insured_account(self, input: InsuredAccountInput) -> InsuredAccountResult:
        """The policy's insured bank account as it is now (R-X-3); POLICY_NOT_FOUND as lookup."""
        ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    customer_id TEXT PRIMARY KEY,
    data        TEXT NOT NULL            -- domain.models.Customer as JSON
);
CREATE TABLE IF NOT EXISTS policies (
    policy_no    TEXT PRIMARY KEY,
    customer_id  TEXT NOT NULL REFERENCES customers(customer_id),
    period_start TEXT NOT NULL,          -- ISO date, China local
    period_end   TEXT NOT NULL,          -- ISO date, inclusive
    data         TEXT NOT NULL           -- domain.models.Policy as JSON
);
CREATE TABLE IF NOT EXISTS reports (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,  -- registration order
    report_no      TEXT NOT NULL UNIQUE,
    policy_no      TEXT NOT NULL REFERENCES policies(policy_no),
    reported_at    TEXT NOT NULL,        -- UTC, fixed width: text order is time order
    reported_date  TEXT NOT NULL,        -- ISO date of reported_at in China
    registered_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_policy ON reports(policy_no, reported_date);
"""


def _aware(moment: datetime) -> datetime:
    # A report time without a zone was taken by someone in China (SPEC: one time zone).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TZ)


class SqliteCoreSystem:
    """The embedded core system: one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        create_database(self.path, _SCHEMA)

    # --- loading --------------------------------------------------------------------------------
    def load(self, records: CoreData) -> LoadStats:
        """Upsert customers then policies, all in one transaction (all or nothing).

        Refuses the whole load (CoreDataRefused) when an identifier is invalid."""
        records = checked(records)
        counts = {"customers_added": 0, "customers_updated": 0, "policies_added": 0, "policies_updated": 0}
        with write_transaction(self.path) as conn:
            for customer in records.customers:
                known = conn.execute("SELECT 1 FROM customers WHERE customer_id = ?", (customer.customer_id,)).fetchone()
                conn.execute(
                    "INSERT INTO customers (customer_id, data) VALUES (?, ?) "
                    "ON CONFLICT(customer_id) DO UPDATE SET data = excluded.data",
                    (customer.customer_id, customer.model_dump_json()),
                )
                counts["customers_updated" if known else "customers_added"] += 1
            for policy in records.policies:
                if policy.period_end < policy.period_start:
                    raise ValueError(f"policy {policy.policy_no}: period ends before it starts")
                if not conn.execute("SELECT 1 FROM customers WHERE customer_id = ?", (policy.customer_id,)).fetchone():
                    raise ValueError(f"policy {policy.policy_no}: unknown customer {policy.customer_id}")
                known = conn.execute("SELECT 1 FROM policies WHERE policy_no = ?", (policy.policy_no,)).fetchone()
                conn.execute(
                    "INSERT INTO policies (policy_no, customer_id, period_start, period_end, data) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT(policy_no) DO UPDATE SET "
                    "customer_id = excluded.customer_id, period_start = excluded.period_start, "
                    "period_end = excluded.period_end, data = excluded.data",
                    (
                        policy.policy_no,
                        policy.customer_id,
                        policy.period_start.isoformat(),
                        policy.period_end.isoformat(),
                        policy.model_dump_json(),
                    ),
                )
                counts["policies_updated" if known else "policies_added"] += 1
        stats = LoadStats(**counts)
        log.info("core.loaded", **stats.model_dump())
        return stats

    def load_file(self, path: Path) -> LoadStats:
        return self.load(CoreData.model_validate_json(Path(path).read_bytes()))

    def count_policies(self) -> int:
        with connection(self.path) as conn:
            return conn.execute("SELECT COUNT(*) FROM policies").fetchone()[0]

    def count_customers(self) -> int:
        with connection(self.path) as conn:
            return conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]

    # --- the activity's work --------------------------------------------------------------------
    def lookup(self, input: LookupPolicyInput) -> LookupPolicyResult:
        reported_at = _aware(input.reported_at)
        # One write transaction: registering and counting are atomic, so two reports on one policy
        # arriving together are ordered, and exactly one of them is the first claim (R-EL-1.2).
        with write_transaction(self.path) as conn:
            row = conn.execute(
                "SELECT p.data AS policy, c.data AS customer FROM policies p "
                "JOIN customers c ON c.customer_id = p.customer_id WHERE p.policy_no = ?",
                (input.policy_no,),
            ).fetchone()
            if row is None:
                raise refusal(f"policy {input.policy_no} is not in the core system", POLICY_NOT_FOUND)
            policy = Policy.model_validate_json(row["policy"])
            customer = Customer.model_validate_json(row["customer"])

            conn.execute(
                "INSERT OR IGNORE INTO reports (report_no, policy_no, reported_at, reported_date, registered_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    input.report_no,
                    input.policy_no,
                    to_utc_text(reported_at),
                    reported_at.astimezone(CHINA_TZ).date().isoformat(),
                    to_utc_text(utc_now()),
                ),
            )
            # The first registration is the report's identity (R-X-2): a repeat adds nothing and keeps
            # its first time and place in the order.
            registered = conn.execute(
                "SELECT seq, policy_no, reported_at FROM reports WHERE report_no = ?", (input.report_no,)
            ).fetchone()
            if registered["policy_no"] != input.policy_no:
                raise refusal(
                    f"report {input.report_no} is registered on policy {registered['policy_no']}, not {input.policy_no}",
                    REPORT_CONFLICT,
                )
            if from_utc_text(registered["reported_at"]) != reported_at:
                log.warning("core.report_repeated_with_other_time", report_no=input.report_no)

            # Prior claims: other reports on this policy inside its period that were reported
            # earlier than this one (R-EL-1.2) or registered before it. The second half settles
            # equal times and late deliveries: of reports arriving together, exactly one is first.
            prior = conn.execute(
                "SELECT COUNT(*) FROM reports WHERE policy_no = ? AND report_no <> ? "
                "AND reported_date BETWEEN ? AND ? AND (reported_at < ? OR seq < ?)",
                (
                    input.policy_no,
                    input.report_no,
                    policy.period_start.isoformat(),
                    policy.period_end.isoformat(),
                    registered["reported_at"],
                    registered["seq"],
                ),
            ).fetchone()[0]
        log.info(
            "core.policy_looked_up",
            report_no=input.report_no,
            policy_no=input.policy_no,
            customer_id=customer.customer_id,
            prior_claims_this_period=prior,
        )
        return LookupPolicyResult(customer=customer, policy=policy, history=ClaimHistory(prior_claims_this_period=prior))

    def insured_account(self, input: InsuredAccountInput) -> InsuredAccountResult:
        with connection(self.path) as conn:
            row = conn.execute("SELECT data FROM policies WHERE policy_no = ?", (input.policy_no,)).fetchone()
        if row is None:
            raise refusal(f"policy {input.policy_no} is not in the core system", POLICY_NOT_FOUND)
        account = Policy.model_validate_json(row["data"]).insured_bank_account
        log.info("core.insured_account_read", report_no=input.report_no, policy_no=input.policy_no, on_record=account is not None)
        return InsuredAccountResult(insured_account=account)


class CoreSystemActivities:
    def __init__(self, core: CoreSystem) -> None:
        self._core = core

    @activity.defn(name=ActivityName.LOOKUP_POLICY)
    async def lookup_policy(self, input: LookupPolicyInput) -> LookupPolicyResult:
        return await asyncio.to_thread(self._core.lookup, input)

    @activity.defn(name=ActivityName.INSURED_ACCOUNT)
    async def insured_account(self, input: InsuredAccountInput) -> InsuredAccountResult:
        return await asyncio.to_thread(self._core.insured_account, input)
