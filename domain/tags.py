"""Reading the premium-customer tag of the core system (R-ID-1), e.g. 钻石(-3)成功男士."""

from __future__ import annotations

import re
import unicodedata

from domain.models import CustomerTag, TagReading

# After NFKC normalisation full-width parentheses, signs and digits are ASCII, so one pattern
# reads both "(-3)" and "（-3）". Tier: a run of CJK ideographs; persona: a run of letters.
_TAG = re.compile(
    r"(?P<tier>[\u3400-\u4dbf\u4e00-\u9fff]+)?"
    r"\((?P<count>[+-]?[0-9]+)\)"
    r"(?P<persona>[^\W\d_]+)"
)
_SHAPE = "[tier](claim count)persona, e.g. 钻石(-3)成功男士"


def read_tag(raw: str | None) -> TagReading:
    """Parse a premium tag into tier, claim-free years and persona (R-ID-1); never guess.

    A claim count of "-N" means N claim-free years; "0" or a positive count means the customer
    has had claims, i.e. 0 claim-free years.
    """
    if raw is None:
        return TagReading(raw=None, recognised=False, reason="the customer has no premium-customer tag")
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        return TagReading(raw=raw, recognised=False, reason="the premium-customer tag is empty")
    match = _TAG.fullmatch(text)
    if match is None:
        return TagReading(raw=raw, recognised=False, reason=f"the tag {raw.strip()!r} does not read as {_SHAPE}")
    tag = CustomerTag(
        raw=raw.strip(),
        tier=match["tier"],
        claim_free_years=max(0, -int(match["count"])),
        persona=match["persona"],
    )
    return TagReading(raw=raw, recognised=True, tag=tag)
