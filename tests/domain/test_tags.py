"""R-ID-1: reading the premium-customer tag."""

from __future__ import annotations

import pytest

from domain.tags import read_tag


def _parts(raw: str) -> tuple[str | None, int, str]:
    tag = read_tag(raw).tag
    assert tag is not None, f"{raw!r} was not recognised"
    return tag.tier, tag.claim_free_years, tag.persona


@pytest.mark.parametrize(
    ("raw", "tier", "years", "persona"),
    [
        ("(-3)男性", None, 3, "男性"),
        ("(-3)成功男士", None, 3, "成功男士"),
        ("(-3)女性", None, 3, "女性"),
        ("钻石(-3)成功男士", "钻石", 3, "成功男士"),
        ("白金(-5)女性", "白金", 5, "女性"),
        ("铂金(-1)男性", "铂金", 1, "男性"),
    ],
)
def test_r_id_1_reads_tier_claim_free_years_and_persona(raw, tier, years, persona):
    reading = read_tag(raw)
    assert reading.recognised and reading.reason is None
    assert _parts(raw) == (tier, years, persona)


@pytest.mark.parametrize("raw", ["钻石（-3）成功男士", "钻石（－３）成功男士"])
def test_r_id_1_full_width_parentheses_and_digits_read_like_ascii(raw):
    assert _parts(raw) == ("钻石", 3, "成功男士")


def test_r_id_1_surrounding_whitespace_is_ignored_but_raw_is_kept():
    reading = read_tag("  金(-3)女性\n")
    assert reading.raw == "  金(-3)女性\n"
    assert _parts("  金(-3)女性\n") == ("金", 3, "女性")


@pytest.mark.parametrize("raw", ["(0)男性", "(+1)男性", "(1)男性", "银(+2)女性"])
def test_r_id_1_zero_or_positive_claim_count_means_no_claim_free_years(raw):
    assert _parts(raw)[1] == 0


@pytest.mark.parametrize(
    "raw",
    [
        "钻石-3成功男士",  # no parentheses
        "(-3)",  # no persona
        "(abc)男性",  # count is not a number
        "(-3 男性",  # unclosed parenthesis
        "(-3.5)男性",  # not an integer
        "()男性",
        "钻石(-3)",
        "(-3)男性(-3)",
        "   ",
        "",
    ],
)
def test_r_id_1_unparseable_tag_is_unrecognised_with_reason(raw):
    reading = read_tag(raw)
    assert reading.recognised is False
    assert reading.tag is None
    assert reading.reason
    assert reading.raw == raw


def test_r_id_1_missing_tag_is_unrecognised():
    reading = read_tag(None)
    assert (reading.recognised, reading.tag, reading.raw) == (False, None, None)
    assert reading.reason and "no premium-customer tag" in reading.reason
