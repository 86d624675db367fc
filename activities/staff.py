"""The staff directory (the insurer's HR system): a staff code's name and work phone, which the
customer's page shows for their contact (issue 24: the injury specialist or the expert lead).

`StaffDirectory` is the interface; `JsonStaffDirectory` the embedded default, a JSON file of
{"<code>": {"name": ..., "work_phone": ...}} (data/sample/staff.json). Work contact details only:
no personal phone, no ID number.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from pydantic import Field

from domain.models import Frozen

SAMPLE_STAFF = Path(__file__).resolve().parent.parent / "data" / "sample" / "staff.json"


class StaffContact(Frozen):
    code: str
    name: str = Field(min_length=1, max_length=40)
    work_phone: str = Field(min_length=3, max_length=30)


class StaffDirectory(Protocol):
    def contact(self, code: str) -> StaffContact | None:
        """The member of staff's work contact, or None when the code is unknown."""
        ...


class JsonStaffDirectory:
    def __init__(self, path: Path = SAMPLE_STAFF) -> None:
        raw = json.loads(Path(path).read_text(encoding="utf-8")) if Path(path).exists() else {}
        self._staff = {code: StaffContact(code=code, **entry) for code, entry in raw.items()}

    def contact(self, code: str) -> StaffContact | None:
        return self._staff.get(code)
