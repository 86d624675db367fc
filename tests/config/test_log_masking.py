"""Personal data never reaches a log line (issue 5, masking): mobiles, ID numbers, bank accounts,
plates and names (by key) are masked in structlog lines (event, values, nested values, exception
text) and in standard-library records (temporalio, uvicorn, httpx), in both output formats;
report numbers, workflow IDs, amounts, timestamps and sha256 hashes stay readable."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import structlog

from config.logging import configure_logging, mask_record
from domain.models import AccidentKind, Report
from security.masking import scrub_text

# fake personal data, in the shapes people type it
MOBILE, MOBILE_GROUPED, MOBILE_INTL = "13800000001", "138-0000-0002", "+86 138 0000 0003"
ID_NUMBER, ID_NUMBER_X = "110105198001010112", "11010519700707071X"
ACCOUNT, ACCOUNT_GROUPED, CORPORATE_ACCOUNT = "6222000000000017", "6222 0000 0000 0025", "310066726018150002128"
PLATE, NAME = "京A·F0001", "测试客户一"
OLD_FAKE_ID, OLD_FAKE_PLATE = "111111111111111111", "测A00001"  # invalid shapes: masked by key
PERSONAL = [
    MOBILE,
    MOBILE_GROUPED,
    MOBILE_INTL,
    ID_NUMBER,
    ID_NUMBER_X,
    ACCOUNT,
    ACCOUNT_GROUPED,
    CORPORATE_ACCOUNT,
    PLATE,
    NAME,
    OLD_FAKE_ID,
    OLD_FAKE_PLATE,
    "0000 0000 0025",
    "19800101",
]

# what must survive
REPORT_NO, WORKFLOW_ID, POLICY_NO = "R20261125001", "claim-R20261125001-B", "P2026000001"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
SHA256_DIGITS = "a13912345678b" + "6222020200112233446" + "c" + "0" * 31  # digit runs inside a hash
RUN_ID = "12345678-1234-1234-1234-123456789012"  # a UUID of digits only
TIMESTAMP, AMOUNT, EPOCH = "2026-11-25T10:00:00+08:00", "2650.00", "1764036000"
KEPT = [REPORT_NO, WORKFLOW_ID, POLICY_NO, SHA256, SHA256_DIGITS, RUN_ID, TIMESTAMP, AMOUNT, EPOCH, "80000.00"]


class Output(io.StringIO):
    def configure(self, fmt: str) -> None:
        """configure_logging into this buffer, as at process start (no root handler yet)."""
        logging.getLogger().handlers = []  # pytest's capture handlers; restored after the test
        configure_logging(fmt, "INFO", stream=self)


@pytest.fixture
def output() -> Iterator[Output]:
    """A buffer to configure logging into; the process's logging set-up is restored afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogRecordFactory(), structlog.get_config())
    try:
        yield Output()
    finally:
        handlers, level, factory, config = saved
        root.handlers = handlers
        root.setLevel(level)
        logging.setLogRecordFactory(factory)
        structlog.reset_defaults()
        structlog.configure(**config)


def log_everything() -> None:
    log = structlog.get_logger("test.masking")  # a fresh logger: module loggers may be cached
    log.info(
        f"report {REPORT_NO} from {MOBILE} paying {ACCOUNT_GROUPED}",
        report_no=REPORT_NO,
        workflow_id=WORKFLOW_ID,
        policy_no=POLICY_NO,
        sha256=SHA256,
        other_sha256=SHA256_DIGITS,
        run_id=RUN_ID,
        reported_at=TIMESTAMP,
        at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
        epoch=EPOCH,
        amount=AMOUNT,
        paid=Decimal("80000.00"),
        reporter_phone=MOBILE,
        payee_account=ACCOUNT,
        id_number=ID_NUMBER,
        plate=PLATE,
        name=NAME,
        note=f"call {MOBILE_GROUPED} or {MOBILE_INTL}; corporate account {CORPORATE_ACCOUNT}; ID {ID_NUMBER_X}",
        customer={"name": NAME, "mobile": MOBILE, "id_number": OLD_FAKE_ID, "documents": [ID_NUMBER, {"plate": OLD_FAKE_PLATE}]},
        payees=(ACCOUNT, CORPORATE_ACCOUNT),
        report=Report(
            report_no=REPORT_NO,
            policy_no=POLICY_NO,
            reported_at=datetime(2026, 11, 25, 2, 0, tzinfo=UTC),
            accident_kind=AccidentKind.SINGLE_PARTY,
            at_scene=True,
            driver_is_insured=True,
            reporter_is_insured=True,
            reporter_phone=MOBILE,
            driver_phone=MOBILE_GROUPED,
            payee_account=ACCOUNT_GROUPED,
        ),
    )
    try:
        raise ValueError(f"payee {ACCOUNT} is not the insured {ID_NUMBER}'s account (plate {PLATE})")
    except ValueError:
        log.exception("payments.refused", report_no=REPORT_NO)

    std = logging.getLogger("temporalio.activity")
    std.warning("paying %s to %s for %s (%s)", ACCOUNT_GROUPED, MOBILE_INTL, REPORT_NO, WORKFLOW_ID)
    std.warning(f"inline {ID_NUMBER_X} and {PLATE} at {TIMESTAMP} sha256 {SHA256}")
    logging.getLogger("httpx").info("GET /v1/x?card=%s%s", ACCOUNT[:8], ACCOUNT[8:])  # split across arguments
    try:
        raise RuntimeError(f"gateway refused {ACCOUNT} / {MOBILE}")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("request failed for %s", REPORT_NO)


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_personal_data_occurs_nowhere_in_the_logs(output: Output, fmt: str) -> None:
    output.configure(fmt)
    log_everything()
    text = output.getvalue()

    assert text.count("\n") >= 6, text
    for value in PERSONAL:
        assert value not in text, f"{value!r} leaked into the {fmt} log:\n{text}"
    for masked in ("138****0001", "************0017", "110105**********12", "京A****01", "测****", "110105**********1X"):
        assert masked in text, f"{masked!r} missing:\n{text}"
    for value in KEPT:
        assert value in text, f"{value!r} was masked:\n{text}"
    assert "Traceback" in text and "ValueError" in text and "RuntimeError" in text  # exceptions still logged
    assert "2026-11-25T02:00:00" in text  # the datetime value, as a timestamp


def test_json_lines_keep_their_structure(output: Output) -> None:
    output.configure("json")
    log_everything()
    lines = [json.loads(line) for line in output.getvalue().splitlines() if line.startswith("{")]
    first, refused = lines[0], lines[1]
    assert first["report_no"] == REPORT_NO and first["amount"] == AMOUNT
    assert first["customer"]["mobile"] == "138****0001"
    assert first["customer"]["documents"][1]["plate"] == "测A***01"
    assert first["report"]["payee_account"].endswith("0025") and first["report"]["reporter_phone"] == "138****0001"
    assert first["payees"][1] == "*" * 17 + "2128"
    assert refused["event"] == "payments.refused" and "************0017" in refused["exception"]


def test_stdlib_record_keeps_its_arguments_when_each_can_be_masked() -> None:
    """uvicorn's access formatter unpacks record.args: masking keeps them a tuple."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:50000", "GET", f"/claims?phone={MOBILE}", "1.1", 200),
        None,
    )
    mask_record(record)
    assert isinstance(record.args, tuple) and len(record.args) == 5 and record.args[4] == 200
    assert record.getMessage() == '127.0.0.1:50000 - "GET /claims?phone=138****0001 HTTP/1.1" 200'


def test_stdlib_masking_is_installed_once(output: Output) -> None:
    output.configure("console")
    factory = logging.getLogRecordFactory()
    configure_logging("console", "INFO", stream=output)
    assert logging.getLogRecordFactory() is factory
    logging.getLogger("temporalio").warning("a %s", MOBILE)
    assert output.getvalue().count("138****0001") == 1


@pytest.mark.parametrize(
    "text",
    [
        "报案R20261125001已受理",  # a report number after Chinese text is not a plate
        "京R20261125001",  # nor after a province character
        "claim-R20261125001-B",
        "DEMO2026-A",
        "P2026000001",
        "R2026000001:B:indemnity",
        SHA256,
        SHA256_DIGITS,
        RUN_ID,
        "0193a3c2-7f4e-7abc-8123-456789012345",
        "2026-11-25T10:00:00+08:00",
        "2026-11-25T02:00:00.123456Z",
        "2026-01-01 2026-12-31",
        "20261125",
        "2650.00",
        "99999999999.99",
        "1764036000",
    ],
)
def test_scrub_leaves_codes_amounts_and_times_alone(text: str) -> None:
    assert scrub_text(text) == text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("call 13800000001.", "call 138****0001."),
        ("手机13800000001", "手机138****0001"),
        ("tel: 138 0000 0001", "tel: 138******0001"),
        ("card 6222 0000 0000 0017 ok", "card ***************0017 ok"),
        ("acct 310066726018150002128", "acct *****************2128"),
        ("id 11010519700707071x", "id 110105**********1x"),
        ("车牌京A·F0001,", "车牌京A****01,"),
        ("粤B D12345 粤Z1234港", "粤B*****45 粤Z***4港"),
    ],
)
def test_scrub_masks_personal_data_in_free_text(text: str, masked: str) -> None:
    assert scrub_text(text) == masked
