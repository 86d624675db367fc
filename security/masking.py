"""Masking of personal data for people and logs that do not need it in full.

One place decides how a mobile number, an ID card number, a bank account, a plate or a name is
shown masked; log processors and role-dependent claim views both use it.
"""

from __future__ import annotations

import re

MASK = "*"

# Mainland mobile numbers (11 digits from 1[3-9]), optionally +86/86-prefixed.
MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
# Resident ID card numbers: 18 characters, the last a digit or X.
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Bank card / account numbers: 12 to 19 digits, optionally grouped by spaces or dashes.
ACCOUNT_RE = re.compile(r"(?<![\dA-Za-z])\d{4}(?:[ -]?\d{4}){2,3}(?:[ -]?\d{1,3})?(?![\dA-Za-z])")
# Plates: a province character, a letter, then five or six letters/digits, optional separator.
PLATE_RE = re.compile(r"[\u4e00-\u9fff][A-Z][·•\- ]?[A-Z0-9]{5,6}")


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
