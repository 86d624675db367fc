"""A human step's HTML form, built from the step's request model (workflows.messages.STEP_MODELS:
the same model whose JSON schema /openapi.json publishes for the step's operation), and the
posted form read back into that model's shape, so the page validates exactly as the API does.

Field kinds by schema: booleans with a default are checkboxes, a required one is a yes/no choice
with neither chosen (an unticked box would send "no": a customer's service declined by a slip),
one that may be null a yes/no/unknown choice; enums are choices, money is a decimal text field,
dates are datetime-local (China time), lists of enum values are checkboxes, a list of photo
digests is a file picker (the files go to the file store, the step gets their sha256), and a list
of documents is one row per missing document.
`by` is never a field: a step is recorded as done by the signed-in staff member.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.models import DocumentChannel, DocumentType
from workflows.messages import SHA256_PATTERN

SKIPPED = frozenset({"by"})
LONG_TEXT = 200  # a string field allowing more than this is a text area


@dataclass
class FormField:
    name: str
    label: str
    kind: str  # text, decimal, integer, textarea, checkbox, yesno, tristate, select, checkboxes, datetime, files, documents
    required: bool = False
    options: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)  # documents: how each may reach us (R-B-4)
    chosen: dict[str, str] = field(default_factory=dict)  # documents: the channel chosen for each, as sent
    pattern: str | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    description: str = ""
    value: Any = None
    error: str | None = None


@dataclass
class StepForm:
    step: str
    title: str
    fields: list[FormField]
    errors: list[str] = field(default_factory=list)  # errors not about one field
    multipart: bool = False


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return defs[schema["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _resolve(schema["allOf"][0], defs)
    return schema


def _field(name: str, prop: dict[str, Any], required: bool, defs: dict[str, Any]) -> FormField:
    label = prop.get("title") or name.replace("_", " ")
    description = prop.get("description", "")
    options = [_resolve(o, defs) for o in prop.get("anyOf", [])]
    nullable = any(o.get("type") == "null" for o in options)
    kinds = [o for o in options if o.get("type") != "null"]
    if len(kinds) == 2 and {o.get("type") for o in kinds} == {"number", "string"}:
        return FormField(name, label, "decimal", required, description=description)  # Money: Decimal
    schema = _resolve(kinds[0], defs) if kinds else _resolve(prop, defs)
    if "enum" in schema:
        return FormField(name, label, "select", required, options=[str(v) for v in schema["enum"]], description=description)
    kind = schema.get("type")
    if kind == "boolean":
        if required and not nullable:
            return FormField(name, label, "yesno", True, description=description)
        return FormField(name, label, "tristate" if nullable else "checkbox", False, description=description)
    if kind == "integer":
        return FormField(
            name,
            label,
            "integer",
            required,
            minimum=schema.get("minimum"),
            maximum=schema.get("maximum"),
            description=description,
        )
    if kind == "string" and schema.get("format") == "date-time":
        return FormField(name, label, "datetime", required, description=description)
    if kind == "array":
        items = _resolve(schema.get("items", {}), defs)
        if "enum" in items:
            return FormField(
                name, label, "checkboxes", required, options=[str(v) for v in items["enum"]], description=description
            )
        if items.get("pattern") == SHA256_PATTERN or (name == "sha256" and items.get("type") == "string"):
            return FormField(name, label, "files", required, description=description or "the photos, as files")
        if items.get("type") == "object" and "document" in items.get("properties", {}):
            return FormField(name, label, "documents", required, options=[d.value for d in DocumentType], description=description)
    max_length = schema.get("maxLength")
    return FormField(
        name,
        label,
        "textarea" if max_length and max_length > LONG_TEXT else "text",
        required,
        pattern=schema.get("pattern"),
        max_length=max_length,
        description=description,
    )


def step_form(
    step: str,
    model: type[BaseModel],
    *,
    documents: list[str] | None = None,
    channels: list[str] | None = None,
) -> StepForm:
    """The form of `step` from its model's JSON schema; `documents` (the ones still missing) and
    `channels` (the track's ways in, R-B-4) narrow a documents field's rows and choices."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema.get("properties", {}).items():
        if name in SKIPPED:
            continue
        f = _field(name, prop, name in required, defs)
        f.value = prop.get("default")
        if f.kind == "documents":
            f.options = documents if documents is not None else f.options
            f.channels = channels if channels is not None else [c.value for c in DocumentChannel]
        fields.append(f)
    title = (model.__doc__ or step).strip().splitlines()[0]
    return StepForm(step, title, fields, multipart=any(f.kind == "files" for f in fields))


@dataclass
class Upload:
    content: bytes
    content_type: str


def read_form(form: StepForm, values: dict[str, list[str]], uploads: dict[str, list[Upload]]) -> dict[str, Any]:
    """The posted form as the step model's input: blank fields are left out (their default, or
    the model's "field required"); files are named by their sha256 (the caller stores them)."""
    body: dict[str, Any] = {}
    for f in form.fields:
        given = [v for v in values.get(f.name, []) if v.strip()]
        f.value = given[0] if len(given) == 1 else given
        if f.kind == "checkbox":
            body[f.name] = bool(given)
            f.value = bool(given)
        elif f.kind in ("tristate", "yesno"):  # nothing chosen: left out (the model's "field required")
            if given:
                body[f.name] = given[0] == "true"
        elif f.kind == "checkboxes":
            body[f.name] = given
            f.value = given
        elif f.kind == "datetime":
            if given:
                text = given[0] + (":00" if len(given[0]) == len("2026-01-01T09:00") else "")
                body[f.name] = text if ("+" in text[10:] or text.endswith("Z")) else text + "+08:00"  # China time
        elif f.kind == "files":
            files = [u for u in uploads.get(f.name, []) if u.content]
            body[f.name] = [hashlib.sha256(u.content).hexdigest() for u in files]
            f.value = None
        elif f.kind == "documents":
            rows = []
            for document in f.options:
                channel = (values.get(f"{f.name}.{document}.channel") or [""])[0]
                if channel:
                    f.chosen[document] = channel
                if values.get(f"{f.name}.{document}"):
                    rows.append({"document": document, "channel": channel})  # no channel: the model refuses it
            body[f.name] = rows
            f.value = [r["document"] for r in rows]
        elif given:
            body[f.name] = given[0]
    return body


def show_errors(form: StepForm, error: ValidationError) -> None:
    """pydantic's errors by field, on the form's fields (the rest above the form)."""
    by_name = {f.name: f for f in form.fields}
    for e in error.errors():
        loc = [str(p) for p in e.get("loc", ())]
        message = e.get("msg", "not valid").removeprefix("Value error, ")
        target = by_name.get(loc[0]) if loc else None
        if target is None:
            form.errors.append(f"{'.'.join(loc) or 'form'}: {message}")
            continue
        if target.kind == "documents" and loc[2:3] == ["channel"] and loc[1].isdigit() and int(loc[1]) < len(target.value):
            message, loc = f"say how {target.value[int(loc[1])]} came", loc[:1]  # a ticked row without its channel
        where = f" ({'.'.join(loc[1:])})" if len(loc) > 1 else ""
        target.error = f"{target.error}; {message}{where}" if target.error else f"{message}{where}"
