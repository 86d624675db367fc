"""The insurer's core system (P17 in SPEC R-ID-2): customers, policies and the reports on them.

`CoreSystem` is the interface the activities need; `SqlCoreSystem` is the stand-in, in a SQLite
file by default or in PostgreSQL (`PREMIUM_CLAIMS_DATABASE_URL`) shared by every host. Production plugs in a client of the real core system behind the same interface.

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
from sqlalchemy import Connection, text
from temporalio import activity

from activities.database import Database
from activities.errors import REPORT_CONFLICT, refusal
from activities.sqlite import from_utc_text, to_utc_text, utc_now
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


def _aware(moment: datetime) -> datetime:
    # A report time without a zone was taken by someone in China (SPEC: one time zone).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TZ)


class SqlCoreSystem:
    """The core-system stand-in in a database (activities/database.py): a SQLite file by default,
    PostgreSQL shared by every host otherwise. Its schema: activities/migrations/core/."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.migrate("core")

    # --- loading --------------------------------------------------------------------------------
    def load(self, records: CoreData) -> LoadStats:
        """Upsert customers then policies, all in one transaction (all or nothing).

        Refuses the whole load (CoreDataRefused) when an identifier is invalid."""
        records = checked(records)

        def write(conn: Connection) -> LoadStats:
            counts = {"customers_added": 0, "customers_updated": 0, "policies_added": 0, "policies_updated": 0}
            for customer in records.customers:
                known = conn.execute(
                    text("SELECT 1 FROM customers WHERE customer_id = :id"), {"id": customer.customer_id}
                ).first()
                conn.execute(
                    text(
                        "INSERT INTO customers (customer_id, data) VALUES (:id, :data) "
                        "ON CONFLICT (customer_id) DO UPDATE SET data = excluded.data"
                    ),
                    {"id": customer.customer_id, "data": customer.model_dump_json()},
                )
                counts["customers_updated" if known else "customers_added"] += 1
            for policy in records.policies:
                if policy.period_end < policy.period_start:
                    raise ValueError(f"policy {policy.policy_no}: period ends before it starts")
                if not conn.execute(text("SELECT 1 FROM customers WHERE customer_id = :id"), {"id": policy.customer_id}).first():
                    raise ValueError(f"policy {policy.policy_no}: unknown customer {policy.customer_id}")
                known = conn.execute(text("SELECT 1 FROM policies WHERE policy_no = :no"), {"no": policy.policy_no}).first()
                conn.execute(
                    text(
                        "INSERT INTO policies (policy_no, customer_id, period_start, period_end, data) "
                        "VALUES (:no, :customer, :start, :end, :data) ON CONFLICT (policy_no) DO UPDATE SET "
                        "customer_id = excluded.customer_id, period_start = excluded.period_start, "
                        "period_end = excluded.period_end, data = excluded.data"
                    ),
                    {
                        "no": policy.policy_no,
                        "customer": policy.customer_id,
                        "start": policy.period_start.isoformat(),
                        "end": policy.period_end.isoformat(),
                        "data": policy.model_dump_json(),
                    },
                )
                counts["policies_updated" if known else "policies_added"] += 1
            return LoadStats(**counts)

        stats = self.db.write(write)
        log.info("core.loaded", **stats.model_dump())
        return stats

    def load_file(self, path: Path) -> LoadStats:
        return self.load(CoreData.model_validate_json(Path(path).read_bytes()))

    def count_policies(self) -> int:
        with self.db.reading() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM policies")).scalar_one())

    def count_customers(self) -> int:
        with self.db.reading() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM customers")).scalar_one())

    def count_reports(self) -> int:
        with self.db.reading() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM reports")).scalar_one())

    # --- the activity's work --------------------------------------------------------------------
    def lookup(self, input: LookupPolicyInput) -> LookupPolicyResult:
        reported_at = _aware(input.reported_at)

        # One serializable write transaction: registering and counting are atomic, so two reports on
        # one policy arriving together are ordered, and exactly one of them is the first claim (R-EL-1.2).
        def register(conn: Connection) -> tuple[Customer, Policy, int]:
            row = conn.execute(
                text(
                    "SELECT p.data AS policy, c.data AS customer FROM policies p "
                    "JOIN customers c ON c.customer_id = p.customer_id WHERE p.policy_no = :no"
                ),
                {"no": input.policy_no},
            ).first()
            if row is None:
                raise refusal(f"policy {input.policy_no} is not in the core system", POLICY_NOT_FOUND)
            policy = Policy.model_validate_json(row.policy)
            customer = Customer.model_validate_json(row.customer)

            conn.execute(
                text(
                    "INSERT INTO reports (report_no, policy_no, reported_at, reported_date, registered_at) "
                    "VALUES (:report_no, :policy_no, :reported_at, :reported_date, :registered_at) "
                    "ON CONFLICT (report_no) DO NOTHING"
                ),
                {
                    "report_no": input.report_no,
                    "policy_no": input.policy_no,
                    "reported_at": to_utc_text(reported_at),
                    "reported_date": reported_at.astimezone(CHINA_TZ).date().isoformat(),
                    "registered_at": to_utc_text(utc_now()),
                },
            )
            # The first registration is the report's identity (R-X-2): a repeat adds nothing and keeps
            # its first time and place in the order.
            registered = conn.execute(
                text("SELECT seq, policy_no, reported_at FROM reports WHERE report_no = :no"), {"no": input.report_no}
            ).one()
            if registered.policy_no != input.policy_no:
                raise refusal(
                    f"report {input.report_no} is registered on policy {registered.policy_no}, not {input.policy_no}",
                    REPORT_CONFLICT,
                )
            if from_utc_text(registered.reported_at) != reported_at:
                log.warning("core.report_repeated_with_other_time", report_no=input.report_no)

            # Prior claims: other reports on this policy inside its period that were reported
            # earlier than this one (R-EL-1.2) or registered before it. The second half settles
            # equal times and late deliveries: of reports arriving together, exactly one is first.
            prior = conn.execute(
                text(
                    "SELECT COUNT(*) FROM reports WHERE policy_no = :policy_no AND report_no <> :report_no "
                    "AND reported_date BETWEEN :start AND :end AND (reported_at < :reported_at OR seq < :seq)"
                ),
                {
                    "policy_no": input.policy_no,
                    "report_no": input.report_no,
                    "start": policy.period_start.isoformat(),
                    "end": policy.period_end.isoformat(),
                    "reported_at": registered.reported_at,
                    "seq": registered.seq,
                },
            ).scalar_one()
            return customer, policy, int(prior)

        customer, policy, prior = self.db.write(register)
        log.info(
            "core.policy_looked_up",
            report_no=input.report_no,
            policy_no=input.policy_no,
            customer_id=customer.customer_id,
            prior_claims_this_period=prior,
        )
        return LookupPolicyResult(customer=customer, policy=policy, history=ClaimHistory(prior_claims_this_period=prior))

    def insured_account(self, input: InsuredAccountInput) -> InsuredAccountResult:
        with self.db.reading() as conn:
            data = conn.execute(text("SELECT data FROM policies WHERE policy_no = :no"), {"no": input.policy_no}).scalar()
        if data is None:
            raise refusal(f"policy {input.policy_no} is not in the core system", POLICY_NOT_FOUND)
        account = Policy.model_validate_json(data).insured_bank_account
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
