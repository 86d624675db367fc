"""Business refusals the activities raise; their type names live in domain.contracts, where the
workflows' retry policies list them as non-retryable.

Messages of these errors travel into the workflow history: they name codes, never personal data.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.contracts import (
    BAD_SMS,
    DUPLICATE_PAYMENT,
    FILE_NOT_FOUND,
    IDEMPOTENCY_CONFLICT,
    POLICY_NOT_FOUND,
    REPORT_CONFLICT,
)

__all__ = ["BAD_SMS", "DUPLICATE_PAYMENT", "IDEMPOTENCY_CONFLICT", "REPORT_CONFLICT", "refusal"]


# Refusals that answer what a caller typed (an unknown policy, a number on another policy, a file
# not uploaded): the workflow turns them into the caller's answer (422, 409), nothing failed.
EXPECTED_REFUSALS = frozenset({POLICY_NOT_FOUND, REPORT_CONFLICT, FILE_NOT_FOUND})


def refusal(message: str, error_type: str) -> ApplicationError:
    """A business refusal: retrying cannot change the answer. An expected one (EXPECTED_REFUSALS)
    is BENIGN, so the worker logs it at DEBUG, not as a WARNING with the activity's traceback;
    the others (a payment, an SMS refused) stay warnings someone should read."""
    category = ApplicationErrorCategory.BENIGN if error_type in EXPECTED_REFUSALS else ApplicationErrorCategory.UNSPECIFIED
    return ApplicationError(message, type=error_type, non_retryable=True, category=category)
