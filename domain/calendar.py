"""Mainland China working days and the deadlines counted in them (SPEC §6, R-A-6, R-B-5, R-X-4, OPEN-3).

Deterministic: the only side effect is one logged warning per year that has no holiday data.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from holidays.countries.china import China

from domain.models import Deadline, Track
from domain.rules import CHINA_TZ, CalendarSettings, Deadlines

_log = logging.getLogger(__name__)
_END_OF_DAY = time(23, 59, 59)
_ONE_DAY = timedelta(days=1)


class _OfficialYear(NamedTuple):
    days_off: frozenset[date]
    weekend_workdays: frozenset[date]  # 调休: Saturdays and Sundays made working days


def _official_years() -> dict[int, _OfficialYear]:
    """The package's data for every year the State Council has published its notice for.

    The package lists each published year's 调休 in special_public_holidays; for later years it
    only estimates the festivals, without the swaps, so those years are not official. Built once,
    at import: building a holidays object reads locale settings and translation files, which
    Temporal's workflow sandbox forbids at run time (so workflows import domain/ passed through).
    """
    years = sorted(China().special_public_holidays)
    china = China(years=years)
    # weekend_workdays also holds cross-year swaps; each year keeps its own dates only.
    return {
        year: _OfficialYear(
            days_off=frozenset(d for d in china if d.year == year),
            weekend_workdays=frozenset(d for d in china.weekend_workdays if d.year == year),
        )
        for year in years
    }


_OFFICIAL = _official_years()
# Years after the last notice that the statutory festivals are kept for (the fallback below).
_STATUTORY_YEARS_AHEAD = 15


def _statutory_days() -> dict[date, str]:
    """The statutory holidays of the years after the last published notice, by name.

    The days themselves (New Year's Day, the Spring Festival's eve and first three days, Qingming,
    Labour Day's two, Dragon Boat, Mid-Autumn, National Day's three) are fixed by the State
    Council's holiday regulation, not by its yearly notice: the package computes them for any
    year. The notice only adds the swaps (the package's "observed" estimates, left out here) and
    the 调休 weekend working days, which go in the overrides file until the package has them.
    Built once at import, for the same reason as _official_years.
    """
    first = max(_OFFICIAL) + 1 if _OFFICIAL else date.today().year
    china = China(years=range(first, first + _STATUTORY_YEARS_AHEAD), observed=False)
    return {d: str(name) for d, name in china.items()}


def _official_names() -> dict[date, str]:
    china = China(years=sorted(_OFFICIAL))
    return {d: str(name) for d, name in china.items() if d.year in _OFFICIAL}


_STATUTORY = _statutory_days()
_NAMES = {**_official_names(), **_STATUTORY}


class SkippedDay(NamedTuple):
    """A day a deadline was not counted on, and why."""

    day: date
    reason: str


class WorkingCalendar:
    """Working days of mainland China: the `holidays` package's official data, then the overrides.

    `extra_holidays` and `extra_working_days` win over the package. A year the package has no
    official data for falls back to Monday to Friday less the statutory holidays (New Year's Day
    and the festivals, which need no yearly notice), plus the overrides; unless the overrides
    cover it, that is logged once per year, so operators know to add the year's notice.
    """

    def __init__(self, settings: CalendarSettings) -> None:
        if settings.working_day_start >= settings.working_day_end:
            raise ValueError("the working day must start before it ends")
        clash = set(settings.extra_holidays) & set(settings.extra_working_days)
        if clash:
            raise ValueError(f"dates both extra holidays and extra working days: {sorted(clash)}")
        self._settings = settings
        self._extra_off = frozenset(settings.extra_holidays)
        self._extra_on = frozenset(settings.extra_working_days)
        self._override_years = {d.year for d in self._extra_off | self._extra_on}
        self._warned: set[int] = set()

    def has_data_for(self, year: int) -> bool:
        """Whether the package's official data or the overrides cover `year`."""
        return year in _OFFICIAL or year in self._override_years

    def is_working_day(self, d: date) -> bool:
        """Whether `d` is a working day in mainland China, overrides first."""
        if d in self._extra_on:
            return True
        if d in self._extra_off:
            return False
        weekend = d.weekday() >= 5
        official = _OFFICIAL.get(d.year)
        if official is None:
            self._warn_no_data(d.year)
            return not weekend and d not in _STATUTORY
        return d in official.weekend_workdays if weekend else d not in official.days_off

    def why_not_working(self, d: date) -> str | None:
        """Why `d` is not a working day (None when it is one): an override, a holiday by name
        (official, or statutory in a year without the notice), or the weekend."""
        if self.is_working_day(d):
            return None
        if d in self._extra_off:
            return "holiday in the calendar overrides"
        if d.year in _OFFICIAL and d in _OFFICIAL[d.year].days_off:
            return f"{_NAMES.get(d, 'holiday')} (official holiday plan)"
        if d in _STATUTORY:
            return f"{_STATUTORY[d]} (statutory holiday; the year's notice is not in the data yet)"
        return d.strftime("%A")

    def skipped(self, start: date, end: date) -> list[SkippedDay]:
        """The days from `start` to `end` (both included) that are not working days, with why."""
        days = []
        while start <= end:
            reason = self.why_not_working(start)
            if reason is not None:
                days.append(SkippedDay(start, reason))
            start += _ONE_DAY
        return days

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        d += _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def end_of_day(self, d: date) -> datetime:
        """23:59:59 China time on `d`."""
        return _end_of_day(d)

    def due_same_day(self, at: datetime) -> datetime:
        """R-B-5: the end of `at`'s China day if it is a working day, else of the next working day."""
        day = _local(at).date()
        return _end_of_day(day if self.is_working_day(day) else self.next_working_day(day))

    def due_within_working_days(self, at: datetime, n: int) -> datetime:
        """R-A-6: the end of the n-th working day after `at`'s China day (n=0: as `due_same_day`)."""
        if n < 0:
            raise ValueError("a number of working days cannot be negative")
        if n == 0:
            return self.due_same_day(at)
        day = _local(at).date()
        for _ in range(n):
            day = self.next_working_day(day)
        return _end_of_day(day)

    def add_working_hours(self, at: datetime, hours: int) -> datetime:
        """OPEN-3: `at` plus `hours` counted only within working hours of working days.

        Counting starts at `at` if it is inside working hours, else at the next working start.
        """
        if hours < 0:
            raise ValueError("a number of working hours cannot be negative")
        remaining = timedelta(hours=hours)
        cursor = _local(at)
        day = cursor.date()
        while True:
            if self.is_working_day(day):
                start = max(cursor, datetime.combine(day, self._settings.working_day_start, CHINA_TZ))
                end = datetime.combine(day, self._settings.working_day_end, CHINA_TZ)
                if start < end:
                    if remaining <= end - start:
                        return start + remaining
                    remaining -= end - start
            day += _ONE_DAY

    def _warn_no_data(self, year: int) -> None:
        if year in self._override_years or year in self._warned:
            return
        self._warned.add(year)
        _log.warning(
            "no official working-day data for %d: using Monday to Friday less the statutory holidays, "
            "plus the calendar overrides; "
            "add the year's holidays and 调休 days to the calendar settings",
            year,
        )


def decision_deadline(requested_at: datetime, deadlines: Deadlines) -> Deadline:
    """R-X-4 (Insurance Law art. 23): the insurer decides within N days of the claim request (the outer limit of a track's
    wait for documents and the assessment)."""
    return Deadline(due_at=_days_after(requested_at, deadlines.statutory_decision_days), rule="R-X-4")


def payment_deadline(
    track: Track,
    documents_complete_at: datetime,
    indemnity_agreed_at: datetime,
    calendar: WorkingCalendar,
    deadlines: Deadlines,
) -> Deadline:
    """When the indemnity must be paid: R-A-6 for A, R-B-5 for B, R-X-4 for C and D.

    The program's deadlines run from when payment can start (documents complete and indemnity
    agreed), and never past the statutory one, the outer limit of every claim.
    """
    statutory = _statutory_payment(indemnity_agreed_at, deadlines)
    ready = max(documents_complete_at, indemnity_agreed_at)
    if track is Track.AUTHORISATION:
        due = calendar.due_within_working_days(ready, deadlines.authorisation_payment_working_days)
        program = Deadline(due_at=due, rule="R-A-6")
    elif track is Track.CREDIT:
        program = Deadline(due_at=calendar.due_same_day(ready), rule="R-B-5")
    else:
        return statutory
    return statutory if statutory.due_at < program.due_at else program


def _statutory_payment(indemnity_agreed_at: datetime, deadlines: Deadlines) -> Deadline:
    return Deadline(due_at=_days_after(indemnity_agreed_at, deadlines.statutory_payment_days), rule="R-X-4")


def _days_after(at: datetime, days: int) -> datetime:
    # Civil Code art. 201, 203: the first day is not counted and the period ends at 24:00 of its
    # last day. We do not extend a period that ends on a holiday (art. 203 would): earlier is safe.
    return _end_of_day(_local(at).date() + timedelta(days=days))


def _end_of_day(d: date) -> datetime:
    return datetime.combine(d, _END_OF_DAY, CHINA_TZ)


def _local(at: datetime) -> datetime:
    # Temporal hands out UTC; a naive time could be any zone, so it is refused rather than guessed.
    if at.utcoffset() is None:
        raise ValueError("datetimes passed to the calendar must be timezone-aware")
    return at.astimezone(CHINA_TZ)
