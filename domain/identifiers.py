"""Mainland-China personal identifiers: check them, normalise them, say clearly what is wrong.

Pure functions (no I/O, no clock except `date.today()` when no date is given) and the pydantic
types built on them. They guard the edges (the API's report body, the CLI's report file, loading
the core system); the models the workflows receive stay lenient, because recorded histories hold
values that would not pass today (tests/histories).

Error messages name what is wrong, never the value itself: it is personal data and messages reach
logs and HTTP answers.

Decisions:
- Mobile: 11 digits starting 13–19, optionally after +86 / 0086 / 86; spaces and dashes between
  groups are dropped. Normal form: the 11 digits.
- Resident ID (GB 11643-1999): 18 characters, the last the ISO 7064 MOD 11-2 check character
  (lower-case x becomes X); the first two digits a province code (HK/Macau/Taiwan residence
  permits 81/82/83 included; a leading 9 is the 2023 foreigners' permanent residence card, whose
  next two digits are the province); the birth date (characters 7–14) a real date from 1900 on
  and not in the future. 15-digit first-generation numbers are refused: those cards stopped
  being valid on 2013-01-01, and the 18-digit number is on the current card.
- Unified social credit code (GB 32100-2015), a corporate customer's number: 18 characters from
  0-9 and A-Z without I, O, S, V, Z, the last a MOD 31 check character.
- Plate (GA 36-2018): a province abbreviation, the issuing authority's letter, then five letters
  or digits (I and O are never used); new-energy plates have six (D or F first for small cars, or
  five digits then D or F for large vehicles); four and a suffix 学 (driving school), 警 (police),
  挂 (trailer), 领 (consulate), 港/澳 (cross-border), 试 (test), 超 (oversize); embassy plates are
  使 and six digits. Separators (·, •, dot, dash, space) are dropped; the normal form is
  `京A·F0001` (a middle dot after the authority letter), embassy plates `使123456`.
- Bank account: digits only once spaces and dashes are dropped, 12–21 digits: personal cards are
  16–19, corporate settlement accounts vary by bank from 12 (e.g. Bank of China) to 21 (Bank of
  Communications). UnionPay cards (16–19 digits starting 62) must pass the Luhn check, as every
  UnionPay card does; other numbers have bank-specific or no check digits, so none is applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

MAX_INPUT = 64  # longer input is refused before any parsing


class IdentifierError(ValueError):
    """A value that is not a valid identifier of its kind; the message says what is wrong."""


def _clean(value: str, what: str, drop: str) -> str:
    if not isinstance(value, str):
        raise IdentifierError(f"{what} must be text")
    if len(value) > MAX_INPUT:
        raise IdentifierError(f"{what} is too long")
    cleaned = re.sub(drop, "", value.strip())
    if not cleaned:
        raise IdentifierError(f"{what} is empty")
    return cleaned


# --- mobile numbers ---------------------------------------------------------------------------

_MOBILE_PREFIX = re.compile(r"^(?:\+86|0086|86(?=\d{11}$))")


def normalise_mobile(value: str) -> str:
    """A mainland mobile number as its 11 digits: '+86 138-0000-0001' -> '13800000001'."""
    what = "a mobile number"
    digits = _MOBILE_PREFIX.sub("", _clean(value, what, r"[\s\-()（）]"))
    if not digits.isascii() or not digits.isdigit():
        raise IdentifierError(f"{what} has digits only (optionally after +86)")
    if len(digits) != 11:
        raise IdentifierError(f"{what} has 11 digits (optionally after +86), not {len(digits)}")
    if digits[0] != "1" or digits[1] not in "3456789":
        raise IdentifierError(f"{what} of mainland China starts with 13 to 19")
    return digits


# --- resident ID card numbers -----------------------------------------------------------------

# Province-level codes of GB/T 2260, plus 81/82/83 (residence permits of HK, Macau, Taiwan residents).
PROVINCE_CODES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # ISO 7064 MOD 11-2: index = weighted sum mod 11


def id_check_character(first17: str) -> str:
    """The 18th character of a resident ID number from its first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdentifierError("the check character is computed from 17 digits")
    return _ID_CHECK[sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str, *, today: date | None = None) -> str:
    """A resident ID card number, upper-case X: checked as GB 11643 says (see the module doc)."""
    what = "an ID card number"
    number = _clean(value, what, r"\s").upper()
    if len(number) == 15 and number.isascii() and number.isdigit():
        raise IdentifierError(
            f"{what} of 15 digits is a first-generation number, no longer valid since 2013; give the 18-character one"
        )
    if len(number) != 18:
        raise IdentifierError(f"{what} has 18 characters, not {len(number)}")
    if not (number[:17].isascii() and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        raise IdentifierError(f"{what} is 17 digits then a digit or X")
    province = number[1:3] if number[0] == "9" else number[:2]
    if province not in PROVINCE_CODES:
        raise IdentifierError(f"{what} starts with a province code; these first digits are none")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdentifierError(f"{what} holds the birth date in characters 7-14; this one is not a real date") from None
    if born < date(1900, 1, 1) or born > (today or date.today()):
        raise IdentifierError(f"{what} holds the birth date in characters 7-14; this one is before 1900 or in the future")
    if id_check_character(number[:17]) != number[17]:
        raise IdentifierError(f"{what} ends with a check character that does not match the rest: it is mistyped")
    return number


# --- unified social credit codes (corporate customers) --------------------------------------------

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    if len(first17) != 17 or any(c not in _USCC_CHARS for c in first17):
        raise IdentifierError("the check character is computed from 17 code characters")
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """A unified social credit code (统一社会信用代码), upper case."""
    what = "a unified social credit code"
    code = _clean(value, what, r"\s").upper()
    if len(code) != 18:
        raise IdentifierError(f"{what} has 18 characters, not {len(code)}")
    if any(c not in _USCC_CHARS for c in code):
        raise IdentifierError(f"{what} uses digits and the letters A-Y except I, O, S, V")
    if not code[2:8].isdigit():
        raise IdentifierError(f"{what} holds a region code in characters 3-8, digits only")
    if credit_code_check_character(code[:17]) != code[17]:
        raise IdentifierError(f"{what} ends with a check character that does not match the rest: it is mistyped")
    return code


# --- plates -------------------------------------------------------------------------------------

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_SUFFIXES = "学警挂领港澳试超"
_SERIAL = "A-HJ-NP-Z0-9"  # letters I and O are not used on plates
_PLATE_TAIL = re.compile(
    rf"(?:[{_SERIAL}]{{5}}"  # ordinary
    rf"|[DF][{_SERIAL}]\d{{4}}|\d{{5}}[DF]"  # new energy: small, large
    rf"|[{_SERIAL}]{{4}}[{PLATE_SUFFIXES}])"
)


def normalise_plate(value: str) -> str:
    """A plate number in its normal form: '京a f0001' -> '京A·F0001' (see the module doc)."""
    what = "a plate number"
    plate = _clean(value, what, r"[\s·•・.．\-]").upper()
    if re.fullmatch(r"使\d{6}", plate):
        return plate
    if plate[0] not in PROVINCES:
        raise IdentifierError(f"{what} starts with a province abbreviation (京, 沪, 粤, …) or 使")
    if len(plate) < 2 or not ("A" <= plate[1] <= "Z") or plate[1] == "I":
        raise IdentifierError(f"{what} has the issuing authority's letter second")
    tail = plate[2:]
    if not _PLATE_TAIL.fullmatch(tail):
        raise IdentifierError(
            f"{what} has 5 letters or digits after the province and letter (not I or O), 6 on a new-energy plate "
            f"(D or F first, or 5 digits then D or F), or 4 and one of {'/'.join(PLATE_SUFFIXES)}"
        )
    return f"{plate[:2]}·{tail}"


# --- bank accounts ------------------------------------------------------------------------------

ACCOUNT_MIN_DIGITS, ACCOUNT_MAX_DIGITS = 12, 21


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check of a card number."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload` + digit Luhn-valid."""
    return next(d for d in "0123456789" if luhn_valid(payload + d))


def is_unionpay_card(digits: str) -> bool:
    return digits.startswith("62") and 16 <= len(digits) <= 19


def normalise_bank_account(value: str) -> str:
    """A bank card or account number as its digits: '6222 0200 0000 0008' -> '6222020000000008'."""
    what = "a bank account number"
    digits = _clean(value, what, r"[\s\-]")
    if not digits.isascii() or not digits.isdigit():
        raise IdentifierError(f"{what} has digits only (spaces and dashes between groups are allowed)")
    if not ACCOUNT_MIN_DIGITS <= len(digits) <= ACCOUNT_MAX_DIGITS:
        raise IdentifierError(f"{what} has {ACCOUNT_MIN_DIGITS} to {ACCOUNT_MAX_DIGITS} digits, not {len(digits)}")
    if is_unionpay_card(digits) and not luhn_valid(digits):
        raise IdentifierError(
            "a UnionPay card number (16-19 digits from 62) ends with a check digit (Luhn) that does not match: it is mistyped"
        )
    return digits


# --- pydantic types -----------------------------------------------------------------------------


def _field(kind: str, normalise: Callable[[str], str]) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            return normalise(value)
        except IdentifierError as err:
            # a custom error keeps the message as written (no "Value error, " prefix) and gives it a type
            raise PydanticCustomError(kind, str(err)) from None

    return AfterValidator(validate)


CnMobile = Annotated[str, _field("cn_mobile", normalise_mobile)]
CnIdNumber = Annotated[str, _field("cn_id_number", normalise_id_number)]
CnCreditCode = Annotated[str, _field("cn_credit_code", normalise_credit_code)]
CnPlate = Annotated[str, _field("cn_plate", normalise_plate)]
BankAccount = Annotated[str, _field("bank_account", normalise_bank_account)]
