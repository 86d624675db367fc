"""Masking of personal data for people and logs that do not need it in full.

One place decides how a mobile number, an ID card number, a bank account, a plate or a name is
shown masked; log processors and role-dependent claim views both use it.
"""

from __future__ import annotations

import re

MASK = "*"

# The patterns stop at letters and digits on either side, so a run of digits inside a report
# number (R20261125001), a workflow or run ID, a sha256 or a policy number is never taken for
# personal data; amounts (1500.00), dates and ISO timestamps are too short to match.

# Mainland mobile numbers (11 digits from 1[3-9], maybe grouped 3-4-4), optionally +86/0086/86.
MOBILE_RE = re.compile(r"(?<![0-9A-Za-z])(?:(?:\+|00)?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?![0-9A-Za-z])")
# Resident ID card numbers: 18 characters, the last a digit or X.
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Bank card / account numbers: 12 to 21 digits (cards 16-19, corporate accounts 12-21), run
# together or in groups of four split by spaces or dashes. A dash next to the digits ends no
# account: UUID segments (run and task IDs) are digits-and-dashes too.
ACCOUNT_RE = re.compile(r"(?<![0-9A-Za-z-])(?:\d{12,21}|\d{4}(?:[ -]\d{4}){2,4}(?:[ -]\d{1,4})?)(?![0-9A-Za-z-])")
# Plates: a province abbreviation, the authority's letter, an optional separator, then five
# letters/digits, six (new energy), or four and a suffix (学, 警, 挂, …); embassy plates 使 + 6 digits.
PROVINCE_CHARS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_RE = re.compile(
    rf"(?:[{PROVINCE_CHARS}][A-Za-z][·•・.\- ]?(?:[A-Za-z0-9]{{5,6}}|[A-Za-z0-9]{{4}}[学警挂领港澳试超])"
    r"|使[·• ]?\d{3}[·• ]?\d{3})(?![0-9A-Za-z])"
)


def _keep_ends(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return MASK * len(value)
    return value[:head] + MASK * (len(value) - head - tail) + value[len(value) - tail :]


def mask_mobile(value: str | None) -> str | None:
    """138****0001"""
    return None if value is None else _keep_ends(value, 3, 4)


def mask_id_number(value: str | None) -> str | None:
    """110105**********1X: region kept, birth date and sequence hidden."""
    return None if value is None else _keep_ends(value, 6, 2)


def mask_account(value: str | None) -> str | None:
    """****************0001: the last four, as on a bank statement."""
    return None if value is None else _keep_ends(value, 0, 4)


def mask_plate(value: str | None) -> str | None:
    """京A***45"""
    return None if value is None else _keep_ends(value, 2, 2)


def mask_name(value: str | None) -> str | None:
    """张** : the family name only."""
    return None if value is None else _keep_ends(value, 1, 0)


def scrub_text(text: str) -> str:
    """Free text with every mobile number, ID number, account number and plate masked.

    ID numbers first (18 characters would otherwise be read as an account), accounts last.
    """
    text = ID_NUMBER_RE.sub(lambda m: mask_id_number(m.group()) or "", text)
    text = MOBILE_RE.sub(lambda m: mask_mobile(m.group()) or "", text)
    text = PLATE_RE.sub(lambda m: mask_plate(m.group()) or "", text)
    return ACCOUNT_RE.sub(lambda m: mask_account(m.group()) or "", text)
