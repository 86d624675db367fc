"""Hypothesis strategies for bad input: JSON-ish values, and dicts shaped like a model with
values that are sometimes right, sometimes nearly right, and sometimes anything."""

from __future__ import annotations

from hypothesis import strategies as st
from pydantic import BaseModel

from domain.models import AccidentKind, DocumentChannel, DocumentType
from workflows.messages import ContactKind, ExpertRole

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)

json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)

# values a careless or hostile caller sends where a real one is expected
near_misses = st.sampled_from(
    [
        "",
        " ",
        "0",
        "0.00",
        "-0.01",
        "-1",
        "2650.00",
        "2650.005",
        "1e3",
        "1E+400",
        "NaN",
        "Infinity",
        "-Infinity",
        "99999999999999.99",
        "1" * 30,
        "12,50",
        "２６５０",
        "a" * 64,
        "A" * 64,
        "g" * 64,
        "R2026000001",
        "r2026",
        "R-",
        "AG01",
        "AG 01",
        "'; DROP TABLE payments;--",
        "\x00",
        "😀",
        "6222000000000025",
        "6222 0000 0000 0025",
        "2026-11-25T10:00:00+08:00",
        "2026-13-45",
        "true",
        "null",
        *[e.value for e in DocumentType],
        *[e.value for e in DocumentChannel],
        *[e.value for e in AccidentKind],
        *[e.value for e in ExpertRole],
        *[e.value for e in ContactKind],
    ]
)

any_value = near_misses | json_values | st.lists(near_misses, max_size=3)


def payloads(model: type[BaseModel]) -> st.SearchStrategy[dict]:
    """Dicts over the model's field names (each maybe present), plus now and then a stray key."""
    fields = sorted(model.model_fields)
    return st.fixed_dictionaries({}, optional=dict.fromkeys(fields, any_value)) | st.dictionaries(
        st.sampled_from(fields) | st.text(max_size=8), any_value, max_size=len(fields) + 1
    )


VALID_REPORT = {
    "report_no": "R20261125001",
    "policy_no": "P2026000002",
    "reported_at": "2026-11-25T10:00:00+08:00",
    "accident_kind": "single_party",
    "at_scene": False,
    "driver_is_insured": True,
    "reporter_is_insured": True,
    "estimated_own_loss": "1500.00",
}

money_text = (
    st.decimals(min_value=-100, max_value=10**12, places=2).map(str)
    | st.decimals(min_value=-(10**13), max_value=10**13, allow_nan=False).map(str)
    | near_misses
)


def reports() -> st.SearchStrategy[dict]:
    """A valid report with some fields replaced: most are refused, a fair share validate."""
    overrides = st.fixed_dictionaries(
        {},
        optional={
            "report_no": st.from_regex(r"^[A-Z0-9][A-Z0-9-]{5,39}$", fullmatch=True) | st.text(max_size=42),
            "estimated_own_loss": money_text,
            "estimated_third_party_loss": money_text,
            "deaths": st.integers(-3, 3) | any_value,
            "payee_account": st.text(max_size=45) | any_value,
        },
    )
    return st.builds(lambda over: {**VALID_REPORT, **over}, overrides) | payloads_of_report()


def payloads_of_report() -> st.SearchStrategy[dict]:
    from domain.models import Report

    return payloads(Report)


def _plausible_fields() -> dict[str, st.SearchStrategy]:
    from workflows.messages import UploadPhotos  # noqa: F401  (documents the special case below)

    hexes = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    money = st.decimals(min_value=0, max_value=100000, places=2).map(str)
    return {
        "accepted": st.booleans(),
        "by": st.sampled_from([None, "AG01", "S100", "IS01"]),
        "own_loss": money,
        "photos_taken": st.booleans(),
        "shop_code": st.sampled_from(["SHOP-17", "S1"]),
        "sheet_no": st.from_regex(r"^DS-[0-9]{1,4}$", fullmatch=True),
        "amount": money,
        "document": st.sampled_from([e.value for e in DocumentType]),
        "channel": st.sampled_from([e.value for e in DocumentChannel]),
        "sha256": st.none() | hexes,
        "lead_code": st.just("EL07"),
        "note": st.text(max_size=20),
        "roles": st.lists(st.sampled_from([e.value for e in ExpertRole]), min_size=1, max_size=3),
        "role": st.sampled_from([e.value for e in ExpertRole]),
        "kind": st.sampled_from([e.value for e in ContactKind]),
        "account": st.sampled_from(["6222000000000025", "6222 0000 0000 0025", "6222000000000099"]),
        "score": st.integers(0, 6),
        "comment": st.text(max_size=20),
    }


def plausible(model: type[BaseModel]) -> st.SearchStrategy[dict]:
    """Every field with a value of the right shape (mostly valid for the model); the workflow then
    decides whether the step fits the claim now."""
    from workflows.messages import UploadPhotos

    fields = _plausible_fields()
    if model is UploadPhotos:
        fields["sha256"] = st.lists(st.text(alphabet="0123456789abcdef", min_size=64, max_size=64), min_size=1, max_size=2)
    return st.fixed_dictionaries({name: fields.get(name, any_value) for name in model.model_fields})
