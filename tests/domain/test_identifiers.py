"""Personal identifiers at the edges (issue 5, input hardening): mobiles, resident ID numbers,
unified social credit codes, plates and bank accounts are normalised, and refused with a message
that says what is wrong without repeating the value."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from domain.identifiers import (
    BankAccount,
    CnCreditCode,
    CnIdNumber,
    CnMobile,
    CnPlate,
    IdentifierError,
    credit_code_check_character,
    id_check_character,
    luhn_check_digit,
    luhn_valid,
    normalise_bank_account,
    normalise_credit_code,
    normalise_id_number,
    normalise_mobile,
    normalise_plate,
)

TODAY = date(2026, 11, 25)


def refused(normalise, value: str, **kwargs) -> str:
    with pytest.raises(IdentifierError) as caught:
        normalise(value, **kwargs)
    message = str(caught.value)
    assert value.strip() not in message or len(value.strip()) < 3, "the message repeats the value"
    return message


# --- mobiles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13800000001", "+8613800000001", "+86 138 0000 0001", "0086-138-0000-0001", "8613800000001", " 138-0000-0001 "],
)
def test_mobile_is_normalised_to_its_11_digits(raw: str) -> None:
    assert normalise_mobile(raw) == "13800000001"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("1380000000", "11 digits"),
        ("138000000012", "11 digits"),
        ("12800000001", "13 to 19"),
        ("23800000001", "13 to 19"),
        ("1380000000a", "digits only"),
        ("１３８００００００01", "digits only"),  # full-width digits are not taken silently
        ("+1 13800000001", "digits only"),
        ("", "empty"),
        ("1" * 100, "too long"),
    ],
)
def test_mobile_refused_with_reason(raw: str, says: str) -> None:
    assert says in refused(normalise_mobile, raw)


# --- resident ID numbers ----------------------------------------------------------------------

VALID_IDS = [
    "110105198001010112",
    "11010519700707071X",
    "440305200002290029",  # born on a leap day
    "810000199001010019",  # a Hong Kong resident's residence permit
]


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_id_numbers_pass(number: str) -> None:
    assert normalise_id_number(number, today=TODAY) == number


def test_id_number_lower_case_x_and_spaces_are_normalised() -> None:
    assert normalise_id_number(" 110105 19700707 071x ", today=TODAY) == "11010519700707071X"


def test_id_check_character_is_iso_7064_mod_11_2() -> None:
    # the worked example of GB 11643-1999
    assert id_check_character("11010519491231002") == "X"
    assert normalise_id_number("11010519491231002X", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("111111111111111111", "birth date"),  # the old sample's fake: born 1111-11-11
        ("110105198001010113", "check character"),
        ("110105198002300116", "not a real date"),  # 30 February
        ("110105189912310011", "before 1900 or in the future"),
        ("110105202711250016", "before 1900 or in the future"),
        ("990105198001010112", "province code"),
        ("11010519800101011", "18 characters"),
        ("11010519800101011Y", "17 digits then a digit or X"),
        ("110105800101011", "first-generation"),
    ],
)
def test_id_number_refused_with_reason(raw: str, says: str) -> None:
    assert says in refused(normalise_id_number, raw, today=TODAY)


def test_id_number_birth_date_may_not_be_after_today() -> None:
    number = "110105202611250015"[:17]
    number += id_check_character(number)
    assert normalise_id_number(number, today=TODAY) == number
    assert "future" in refused(normalise_id_number, number, today=date(2026, 11, 24))


def test_foreigners_permanent_residence_number_reads_the_province_after_the_9() -> None:
    first17 = "91100019850101001"  # 9, province 11, …
    number = first17 + id_check_character(first17)
    assert normalise_id_number(number, today=TODAY) == number


provinces = st.sampled_from(["11", "31", "44", "51", "65", "81"])
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    first17 = (
        draw(provinces)
        + draw(st.text("0123456789", min_size=4, max_size=4))
        + draw(birth_dates).strftime("%Y%m%d")
        + draw(st.text("0123456789", min_size=3, max_size=3))
    )
    return first17 + id_check_character(first17)


@given(id_numbers())
def test_generated_valid_id_number_always_passes(number: str) -> None:
    assert normalise_id_number(number, today=TODAY) == number
    assert normalise_id_number(number.lower(), today=TODAY) == number


@given(id_numbers(), st.integers(0, 17), st.integers(1, 10))
def test_any_single_character_change_of_an_id_number_is_caught(number: str, position: int, shift: int) -> None:
    """MOD 11-2 detects every single substitution: the checksum or another check refuses it."""
    alphabet = "0123456789X" if position == 17 else "0123456789"
    changed = alphabet[(alphabet.index(number[position]) + shift) % len(alphabet)]
    if changed == number[position]:
        return
    with pytest.raises(IdentifierError):
        normalise_id_number(number[:position] + changed + number[position + 1 :], today=TODAY)


# --- unified social credit codes ------------------------------------------------------------------


def test_credit_code_is_checked_and_upper_cased_gb_32100() -> None:
    assert credit_code_check_character("91440300MA5D00001") == "5"
    assert normalise_credit_code("91440300ma5d000015") == "91440300MA5D000015"
    assert normalise_credit_code("91110105MA0000005E") == "91110105MA0000005E"  # sample customer C0005


@given(st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9), st.integers(0, 17), st.integers(1, 30))
def test_any_single_character_change_of_a_credit_code_is_caught(org: str, position: int, shift: int) -> None:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    first17 = "91110105" + org
    code = first17 + credit_code_check_character(first17)
    assert normalise_credit_code(code) == code
    changed = alphabet[(alphabet.index(code[position]) + shift) % len(alphabet)]
    with pytest.raises(IdentifierError):
        normalise_credit_code(code[:position] + changed + code[position + 1 :])


@pytest.mark.parametrize(
    ("raw", "says"),
    [("11111111111111111X", "check character"), ("91110105MA0000005", "18 characters"), ("91110105MI0000005E", "except I")],
)
def test_credit_code_refused_with_reason(raw: str, says: str) -> None:
    assert says in refused(normalise_credit_code, raw)


# --- plates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("京A·F0001", "京A·F0001"),
        ("京AF0001", "京A·F0001"),
        ("京a f0001", "京A·F0001"),
        ("沪B-12345", "沪B·12345"),
        ("粤B•D12345", "粤B·D12345"),  # new energy, small car
        ("粤B 12345F", "粤B·12345F"),  # new energy, large vehicle
        ("京A1234学", "京A·1234学"),
        ("苏E0123挂", "苏E·0123挂"),
        ("粤Z1234港", "粤Z·1234港"),
        ("使 123 456", "使123456"),
    ],
)
def test_plate_is_normalised(raw: str, normal: str) -> None:
    assert normalise_plate(raw) == normal


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("测A00001", "province abbreviation"),  # the old sample's fake
        ("京1A0001", "authority's letter"),
        ("京AI0001", "not I or O"),
        ("京A0O001", "not I or O"),
        ("京A1234", "5 letters or digits"),
        ("京A1234567", "5 letters or digits"),
        ("京AA12345", "new-energy"),  # six characters, but not D/F first nor last
        ("京A12345学", "5 letters or digits"),
    ],
)
def test_plate_refused_with_reason(raw: str, says: str) -> None:
    assert says in refused(normalise_plate, raw)


# --- bank accounts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("6222 0000 0000 0017", "6222000000000017"),
        ("6222-0000-0000-0017", "6222000000000017"),
        ("6222 0202 0011 2233 446", "6222020200112233446"),  # 19 digits
        ("337559666666", "337559666666"),  # a 12-digit corporate account: no checksum applies
        ("310066726018150002128", "310066726018150002128"),  # 21 digits (Bank of Communications)
        ("4367421234567890", "4367421234567890"),  # not UnionPay: no Luhn imposed
    ],
)
def test_bank_account_is_normalised_to_digits(raw: str, normal: str) -> None:
    assert normalise_bank_account(raw) == normal


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ("6222000000000001", "Luhn"),  # the old sample's fake
        ("62220000000", "12 to 21 digits"),
        ("6222000000000000000017", "12 to 21 digits"),
        ("6222 0000 0000 001A", "digits only"),
        ("", "empty"),
    ],
)
def test_bank_account_refused_with_reason(raw: str, says: str) -> None:
    assert says in refused(normalise_bank_account, raw)


@given(st.text("0123456789", min_size=13, max_size=16))
def test_unionpay_card_with_its_luhn_digit_passes_and_any_other_last_digit_fails(body: str) -> None:
    payload = "62" + body  # 15 to 18 digits, then the check digit: 16 to 19
    card = payload + luhn_check_digit(payload)
    assert luhn_valid(card)
    assert normalise_bank_account(card) == card
    for digit in "0123456789":
        if digit != card[-1]:
            with pytest.raises(IdentifierError, match="Luhn"):
                normalise_bank_account(payload + digit)


# --- the pydantic types -------------------------------------------------------------------------


class Person(BaseModel):
    mobile: CnMobile | None = None
    id_number: CnIdNumber | None = None
    credit_code: CnCreditCode | None = None
    plate: CnPlate | None = None
    account: BankAccount | None = None


def test_types_normalise() -> None:
    person = Person(
        mobile="+86 138 0000 0001",
        id_number="11010519700707071x",
        credit_code="91110105ma0000005e",
        plate="京a f0001",
        account="6222 0000 0000 0017",
    )
    assert person.model_dump() == {
        "mobile": "13800000001",
        "id_number": "11010519700707071X",
        "credit_code": "91110105MA0000005E",
        "plate": "京A·F0001",
        "account": "6222000000000017",
    }


def test_types_name_the_field_and_the_problem_never_the_value() -> None:
    with pytest.raises(ValidationError) as caught:
        Person(mobile="1380000000", id_number="110105198001010113", plate="测A00001", account="6222000000000001")
    errors = {e["loc"][0]: e for e in caught.value.errors(include_input=False)}
    assert set(errors) == {"mobile", "id_number", "plate", "account"}
    assert errors["mobile"]["type"] == "cn_mobile" and "11 digits" in errors["mobile"]["msg"]
    assert errors["id_number"]["type"] == "cn_id_number" and "check character" in errors["id_number"]["msg"]
    assert errors["plate"]["type"] == "cn_plate"
    assert errors["account"]["type"] == "bank_account" and "Luhn" in errors["account"]["msg"]
    for value in ("1380000000", "110105198001010113", "测A00001", "6222000000000001"):
        assert all(value not in e["msg"] for e in errors.values())
    assert isinstance(caught.value, ValueError)
