"""structlog set-up: readable in a terminal, JSON in production, personal data masked.

Callers log codes, never personal data; masking is the net under that rule. Every structlog line
passes `mask_personal_data` just before the renderer: the event, every value (nested dicts,
lists, pydantic models) and the formatted exception. Values under keys that say what they are
(`mobile`, `payee_account`, `plate`, `name`, …) are masked whole; everything else is scanned
for mobile numbers, ID numbers, bank accounts and plates (security/masking.scrub_text). Names
cannot be recognised in free text, only by key.

Standard-library records (temporalio, uvicorn, httpx, …) are masked when they are made (a
logging record factory): the message with its arguments, the exception text and the stack, so
every handler, whichever formatter it has, only ever sees masked text.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO
from uuid import UUID

import structlog
from pydantic import BaseModel
from structlog.typing import EventDict, WrappedLogger

from security.masking import mask_account, mask_id_number, mask_mobile, mask_name, mask_plate, scrub_text

# Keys whose value is, by its name, personal data of one kind: masked whole, valid-looking or not.
NAME_KEYS = frozenset(
    {
        "name",
        "insured",
        "insured_name",
        "customer_name",
        "payee_name",
        "driver_name",
        "reporter_name",
        "contact_name",
        "account_name",
        "holder_name",
        "full_name",
    }
)
MOBILE_KEYS = frozenset({"mobile", "phone", "reporter_phone", "driver_phone", "contact_phone", "phone_number"})
ID_NUMBER_KEYS = frozenset({"id_number", "id_card", "id_card_number", "credit_code"})
ACCOUNT_KEYS = frozenset(
    {"account", "payee_account", "insured_account", "insured_bank_account", "bank_account", "card_no", "card_number"}
)
PLATE_KEYS = frozenset({"plate", "plate_no", "plate_number"})

_BY_KEY: dict[str, Callable[[str], str | None]] = {
    **dict.fromkeys(NAME_KEYS, mask_name),
    **dict.fromkeys(MOBILE_KEYS, mask_mobile),
    **dict.fromkeys(ID_NUMBER_KEYS, mask_id_number),
    **dict.fromkeys(ACCOUNT_KEYS, mask_account),
    **dict.fromkeys(PLATE_KEYS, mask_plate),
}
# Values that cannot hold personal data as they are.
_PLAIN = (bool, type(None), datetime, date, time, timedelta, UUID)


def mask_value(value: Any, key: str | None = None) -> Any:
    """`value` with personal data masked: by `key` when it names a kind, else by scanning."""
    by_key = _BY_KEY.get(key.lower()) if isinstance(key, str) else None
    if isinstance(value, bool | None | timedelta):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()  # readable in both formats (JSON would otherwise print the repr)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str | int | float | Decimal):  # StrEnum is str: kept as is when clean
        text = str(value.value if isinstance(value, Enum) else value)
        if by_key is not None:
            return by_key(text)
        masked = scrub_text(text)
        if masked != text or isinstance(value, Decimal):
            return masked  # a Decimal as its digits ("2650.00"), not its repr
        return value
    if isinstance(value, Enum):
        return mask_value(value.value, key)
    if isinstance(value, BaseModel):
        return mask_value(value.model_dump(mode="json"), key)
    if isinstance(value, Mapping):
        return {k: mask_value(v, k if isinstance(k, str) else None) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v, key) for v in value]
    if isinstance(value, bytes | bytearray):
        return mask_value(bytes(value).decode("utf-8", "replace"), key)
    return mask_value(str(value), key)  # exceptions and other objects: as their text


def mask_personal_data(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: run after format_exc_info and before the renderer."""
    return {k: mask_value(v, k) for k, v in event_dict.items()}


# --- standard-library records -------------------------------------------------------------------

_exception_formatter = logging.Formatter()


def _mask_arg(arg: Any) -> Any:
    if isinstance(arg, str):
        return scrub_text(arg)
    return arg if isinstance(arg, (int, float, Decimal, *_PLAIN)) else mask_value(arg)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a stdlib record in place: message and arguments, exception text, stack."""
    try:
        message = record.getMessage()
    except Exception:
        record.msg, record.args = scrub_text(f"{record.msg!s} (unformattable arguments dropped)"), ()
        message = record.msg
    if scrub_text(message) != message:
        # Mask the template and each argument, so formatters that read record.args (uvicorn's
        # access log) still work; if personal data survives that, the merged message replaces both.
        try:
            args = record.args
            masked_args = (
                {k: _mask_arg(v) for k, v in args.items()} if isinstance(args, Mapping) else tuple(map(_mask_arg, args or ()))
            )
            record.msg, record.args = scrub_text(str(record.msg)), masked_args
            merged = record.getMessage()
            if scrub_text(merged) != merged:
                raise ValueError("personal data across template and arguments")
        except Exception:
            record.msg, record.args = scrub_text(message), ()
    if record.exc_info and not record.exc_text:
        # Formatter.format uses exc_text when it is set, so the raw traceback is never rendered
        record.exc_text = scrub_text(_exception_formatter.formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub_text(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub_text(record.stack_info)
    return record


def install_record_masking() -> None:
    """Make every stdlib log record masked from birth (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "masks_personal_data", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(current(*args, **kwargs))

    factory.masks_personal_data = True  # type: ignore[attr-defined]  # a marker attribute on a function
    logging.setLogRecordFactory(factory)


class MaskingFilter(logging.Filter):
    """The same masking as a filter, for handlers set up where the record factory is not ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def configure_logging(fmt: str = "console", level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """structlog and stdlib logging for the process, on stderr (stdout is the commands' results,
    e.g. `TOKEN=$(claims token …)`); colour only when that stream is a terminal. `stream` is for tests."""
    out = stream or sys.stderr
    renderer: Callable[..., Any] = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        # plain tracebacks: a rich one could print local variables, i.e. personal data
        else structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback, colors=_is_terminal(out))
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            mask_personal_data,  # last before the renderer: sees the event, every value, the exception text
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    install_record_masking()
    ours = logging.StreamHandler(out)
    ours.setFormatter(StructlogFormatter(renderer))  # one format: stdlib lines as structlog's
    logging.basicConfig(level=level.upper(), handlers=[ours])
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


class StructlogFormatter(logging.Formatter):
    """A standard-library record (temporalio, uvicorn, httpx) rendered as a structlog line by the
    same renderer: the same timestamp, level, event and exception, so the log reads as one format
    (console or JSON). The record comes masked (mask_record); its event dict is masked again."""

    def __init__(self, renderer: Callable[..., Any]) -> None:
        super().__init__()
        self.renderer = renderer

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "event": record.getMessage(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "timestamp": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub_text(self.formatException(record.exc_info))
        if record.exc_text:
            event["exception"] = record.exc_text
        if record.stack_info:
            event["stack"] = record.stack_info
        return str(self.renderer(None, record.levelname.lower(), mask_personal_data(None, "", event)))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False
