"""Indemnity payments (R-A-6, R-B-5): the payment activity and the bank's interface.

The activity reaches the bank only through its interface: `PaymentLedger` (in-process) or
`AsyncPaymentGateway` (over the network; `HttpPaymentGateway` is its client). The bank itself,
with its ledger that pays each claim-track exactly once (R-X-3), is the stand-in in gateway/
(gateway/ledger.py); the worker hands the activity one or the other (gateway.bank).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx
import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.contracts import (
    NON_RETRYABLE,
    ActivityName,
    PayIndemnityInput,
    PayIndemnityResult,
)

log = structlog.get_logger(__name__)


# A transient failure of the gateway (timeout, 5xx, dropped connection): retryable, with backoff.
GATEWAY_UNAVAILABLE = "PaymentGatewayUnavailable"


class PaymentLedger(Protocol):
    def pay(self, input: PayIndemnityInput) -> PayIndemnityResult:
        """Pay once per idempotency key and per claim-track; refuse any payee but the insured."""
        ...


class AsyncPaymentGateway(Protocol):
    async def pay_async(self, input: PayIndemnityInput) -> PayIndemnityResult:
        """The same contract as PaymentLedger.pay, over the network."""
        ...


class HttpPaymentGateway:
    """The client of a payment gateway over HTTP: the bank's in production, `python -m gateway` here.

    POST {base}/v1/payments with the PayIndemnityInput as JSON and the idempotency key as the
    Idempotency-Key header. 200: the receipt. 4xx: a business refusal {"type", "message"}, raised
    non-retryable. Anything else (timeout, 5xx, a connection closed without an answer) raises the
    retryable GATEWAY_UNAVAILABLE: the payment may have been booked, and the retry with the same
    key returns that booking's receipt.
    """

    def __init__(self, base_url: str, timeout_seconds: float = 20.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout_seconds

    async def pay_async(self, input: PayIndemnityInput) -> PayIndemnityResult:
        try:
            # a fresh connection per call: a pooled one the gateway dropped would fail the next call
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.post(
                    f"{self.base_url}/v1/payments",
                    content=input.model_dump_json(),
                    headers={"Content-Type": "application/json", "Idempotency-Key": input.idempotency_key},
                )
        except httpx.TimeoutException as err:
            raise _unavailable(input, f"no answer within {self.timeout:g}s") from err
        except httpx.TransportError as err:  # refused, reset, closed without an answer
            raise _unavailable(input, type(err).__name__) from err
        if response.status_code == 200:
            return PayIndemnityResult.model_validate_json(response.content)
        if 400 <= response.status_code < 500:
            try:
                body = response.json()
                error_type, message = str(body["type"]), str(body["message"])
            except (ValueError, KeyError, TypeError):
                error_type, message = "", ""
            if error_type in NON_RETRYABLE:
                log.warning("payments.gateway_refused", report_no=input.report_no, track=input.track.value, type=error_type)
                # the reason goes into the claim's history and view: keep it short (the bank's text)
                raise ApplicationError(message[:300], type=error_type, non_retryable=True)
        raise _unavailable(input, f"HTTP {response.status_code}")


def _unavailable(input: PayIndemnityInput, what: str) -> ApplicationError:
    log.info("payments.gateway_unavailable", report_no=input.report_no, track=input.track.value, what=what)
    return ApplicationError(f"payment gateway unavailable: {what}", type=GATEWAY_UNAVAILABLE)


class PaymentActivities:
    """The payment activity over the embedded ledger (in a thread) or a gateway (over HTTP).

    It heartbeats every `heartbeat_seconds` while the call is in flight, so a worker that died
    mid-payment is noticed within the heartbeat timeout (PAYMENT_CALL), not the 2-minute attempt.
    """

    def __init__(self, ledger: PaymentLedger | AsyncPaymentGateway, heartbeat_seconds: float = 2.0) -> None:
        self._ledger = ledger
        self._heartbeat_seconds = heartbeat_seconds

    @activity.defn(name=ActivityName.PAY_INDEMNITY)
    async def pay_indemnity(self, input: PayIndemnityInput) -> PayIndemnityResult:
        activity.heartbeat()
        if hasattr(self._ledger, "pay_async"):
            call = asyncio.ensure_future(self._ledger.pay_async(input))
        else:
            call = asyncio.ensure_future(asyncio.to_thread(self._ledger.pay, input))
        try:
            while True:
                done, _ = await asyncio.wait({call}, timeout=self._heartbeat_seconds)
                if done:
                    return call.result()
                activity.heartbeat()
        finally:
            # cancelled (heartbeat timeout, worker shutdown): stop waiting; the retry uses the same key
            call.cancel()
