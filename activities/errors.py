"""Business refusals the activities raise; their type names live in domain.contracts, where the
workflows' retry policies list them as non-retryable.

Messages of these errors travel into the workflow history: they name codes, never personal data.
"""

from __future__ import annotations

from temporalio.exceptions import ApplicationError

from domain.contracts import BAD_SMS, DUPLICATE_PAYMENT, IDEMPOTENCY_CONFLICT, REPORT_CONFLICT

__all__ = ["BAD_SMS", "DUPLICATE_PAYMENT", "IDEMPOTENCY_CONFLICT", "REPORT_CONFLICT", "refusal"]


def refusal(message: str, error_type: str) -> ApplicationError:
    """A business refusal: retrying cannot change the answer."""
    return ApplicationError(message, type=error_type, non_retryable=True)
