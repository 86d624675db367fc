"""SPEC §6, R-A-6, R-B-5, R-X-4, OPEN-3: China working days and the deadlines counted in them."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from domain.calendar import WorkingCalendar, decision_deadline, payment_deadline
from domain.models import Deadline, Track
from domain.rules import CHINA_TZ, CalendarSettings, Deadlines

SAT = 5


def china(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A China-time instant, handed over as UTC like Temporal does."""
    return datetime(year, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


def end_of(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, tzinfo=CHINA_TZ)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar(CalendarSettings())


# --- working days --------------------------------------------------------------------------------


def test_spec_6_national_day_holidays_are_not_working_days(cal):
    assert date(2026, 10, 3).weekday() == SAT
    assert not cal.is_working_day(date(2026, 10, 3))
    assert not any(cal.is_working_day(date(2026, 10, day)) for day in range(1, 8))
    assert cal.is_working_day(date(2026, 10, 8))


def test_spec_6_weekend_made_working_day_tiaoxiu_2026_10_10(cal):
    assert date(2026, 10, 10).weekday() == SAT
    assert cal.is_working_day(date(2026, 10, 10))
    assert not cal.is_working_day(date(2026, 10, 17))  # an ordinary Saturday


def test_spec_6_official_data_covers_2026_but_not_2031(cal):
    assert cal.has_data_for(2026)
    assert not cal.has_data_for(2031)


def test_spec_6_year_without_data_warns_once_and_falls_back_to_monday_to_friday(cal, caplog):
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        assert not cal.is_working_day(date(2031, 1, 4))  # Saturday
        assert cal.is_working_day(date(2031, 1, 6))  # Monday
        assert cal.is_working_day(date(2031, 1, 7))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "2031" in r.getMessage()]
    assert len(warnings) == 1


def test_spec_6_override_extra_holiday_makes_a_weekday_non_working(cal):
    typhoon = date(2026, 6, 3)  # a Wednesday
    assert cal.is_working_day(typhoon)
    assert not WorkingCalendar(CalendarSettings(extra_holidays=(typhoon,))).is_working_day(typhoon)


def test_spec_6_override_extra_working_day_wins_over_the_package(cal):
    national_day = date(2026, 10, 2)
    assert not cal.is_working_day(national_day)
    assert WorkingCalendar(CalendarSettings(extra_working_days=(national_day,))).is_working_day(national_day)


def test_spec_6_overrides_for_a_new_year_count_as_data_without_warning(caplog):
    tiaoxiu_2031 = date(2031, 1, 4)  # a Saturday made a working day by a future notice
    cal = WorkingCalendar(CalendarSettings(extra_working_days=(tiaoxiu_2031,)))
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        assert cal.has_data_for(2031)
        assert cal.is_working_day(tiaoxiu_2031)
        assert not cal.is_working_day(date(2031, 1, 5))
    assert not caplog.records


def test_spec_6_a_date_cannot_be_both_holiday_and_working_day():
    day = date(2026, 6, 3)
    with pytest.raises(ValueError, match="both"):
        WorkingCalendar(CalendarSettings(extra_holidays=(day,), extra_working_days=(day,)))


def test_spec_6_next_working_day_is_strictly_after(cal):
    assert cal.next_working_day(date(2026, 6, 10)) == date(2026, 6, 11)
    assert cal.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)


def test_spec_6_end_of_day_is_china_time(cal):
    assert cal.end_of_day(date(2026, 6, 10)) == end_of(2026, 6, 10)
    assert cal.end_of_day(date(2026, 6, 10)).utcoffset() == CHINA_TZ.utcoffset(None)


def test_spec_6_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.due_same_day(datetime(2026, 6, 10, 10, 0))


# --- program deadlines ---------------------------------------------------------------------------


def test_r_a_6_documents_complete_before_national_day_paid_by_2026_10_08(cal):
    assert cal.due_within_working_days(china(2026, 9, 30, 16, 0), 1) == end_of(2026, 10, 8)


def test_r_a_6_one_working_day_after_an_ordinary_weekday(cal):
    assert cal.due_within_working_days(china(2026, 6, 10, 10, 0), 1) == end_of(2026, 6, 11)
    assert cal.due_within_working_days(china(2026, 6, 10, 10, 0), 2) == end_of(2026, 6, 12)


def test_r_a_6_zero_working_days_means_same_day_and_negative_is_refused(cal):
    assert cal.due_within_working_days(china(2026, 6, 10, 10, 0), 0) == end_of(2026, 6, 10)
    assert cal.due_within_working_days(china(2026, 10, 3, 10, 0), 0) == end_of(2026, 10, 8)
    with pytest.raises(ValueError):
        cal.due_within_working_days(china(2026, 6, 10, 10, 0), -1)


def test_r_b_5_same_day_uses_the_china_date_not_utc(cal):
    """01:00 on 10 June in Beijing is still 9 June in UTC."""
    assert cal.due_same_day(datetime(2026, 6, 9, 17, 0, tzinfo=UTC)) == end_of(2026, 6, 10)


def test_r_b_5_documents_complete_on_a_holiday_are_paid_the_next_working_day(cal):
    assert cal.due_same_day(china(2026, 10, 3, 11, 0)) == end_of(2026, 10, 8)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ((2026, 6, 10, 10, 0), 4, (2026, 6, 10, 14, 0)),  # inside working hours
        ((2026, 6, 10, 7, 30), 2, (2026, 6, 10, 11, 0)),  # before the day starts
        ((2026, 6, 10, 16, 0), 4, (2026, 6, 11, 11, 0)),  # runs into the next day
        ((2026, 6, 10, 20, 0), 4, (2026, 6, 11, 13, 0)),  # after hours
        ((2026, 6, 12, 17, 0), 4, (2026, 6, 15, 12, 0)),  # Friday to Monday
        ((2026, 9, 30, 16, 0), 4, (2026, 10, 8, 11, 0)),  # over National Day
        ((2026, 10, 9, 17, 0), 2, (2026, 10, 10, 10, 0)),  # into the 调休 Saturday
    ],
)
def test_open_3_working_hours_count_only_working_time(cal, start, hours, due):
    assert cal.add_working_hours(china(*start), hours) == datetime(*due).replace(tzinfo=CHINA_TZ)


# --- statutory and payment deadlines -------------------------------------------------------------


def test_r_x_4_decision_within_30_days_and_payment_within_10_days_of_agreement(cal):
    """Both periods end at 24:00 China time of their last day (Civil Code art. 201, 203)."""
    assert decision_deadline(china(2026, 6, 10, 10, 0), Deadlines()) == Deadline(due_at=end_of(2026, 7, 10), rule="R-X-4")
    agreed = china(2026, 6, 20, 15, 0)
    payment = payment_deadline(Track.EXPERT_TEAM, agreed, agreed, cal, Deadlines())
    assert payment == Deadline(due_at=end_of(2026, 6, 30), rule="R-X-4")


def test_r_a_6_payment_deadline_for_authorisation(cal):
    due = payment_deadline(Track.AUTHORISATION, china(2026, 9, 30, 16, 0), china(2026, 9, 29, 9, 0), cal, Deadlines())
    assert due == Deadline(due_at=end_of(2026, 10, 8), rule="R-A-6")


def test_r_x_4_statutory_deadline_wins_when_earlier_than_r_a_6(cal):
    """Agreed on 27 September: the 10 statutory days end on 7 October, before 8 October (R-A-6)."""
    due = payment_deadline(Track.AUTHORISATION, china(2026, 9, 30, 16, 0), china(2026, 9, 27, 9, 0), cal, Deadlines())
    assert due == Deadline(due_at=end_of(2026, 10, 7), rule="R-X-4")


def test_r_b_5_payment_deadline_runs_from_the_later_of_documents_and_agreement(cal):
    due = payment_deadline(Track.CREDIT, china(2026, 6, 10, 10, 0), china(2026, 6, 12, 15, 0), cal, Deadlines())
    assert due == Deadline(due_at=end_of(2026, 6, 12), rule="R-B-5")


@pytest.mark.parametrize("track", [Track.EXPERT_TEAM, Track.INJURY])
def test_r_x_4_expert_and_injury_tracks_pay_within_the_statutory_days(cal, track):
    due = payment_deadline(track, china(2026, 6, 10, 10, 0), china(2026, 6, 11, 9, 0), cal, Deadlines())
    assert due == Deadline(due_at=end_of(2026, 6, 21), rule="R-X-4")


# --- a year after the last notice (issue 12.4) -----------------------------------------------------


def test_spec_6_r_a_6_documents_complete_late_on_2026_12_31_are_paid_after_new_years_day(cal, caplog):
    """R-A-6: one working day after 2026-12-31 is not 2027-01-01 (New Year's Day, statutory, in no
    notice the package has yet) nor the weekend after it, but Monday 2027-01-04; with a warning."""
    late = china(2026, 12, 31, 23, 30)
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        deadline = payment_deadline(Track.AUTHORISATION, late, late, cal, Deadlines())
    assert deadline == Deadline(due_at=end_of(2027, 1, 4), rule="R-A-6")
    assert [s.day for s in cal.skipped(date(2027, 1, 1), date(2027, 1, 4))] == [date(2027, 1, d) for d in (1, 2, 3)]
    assert "New Year's Day" in (cal.why_not_working(date(2027, 1, 1)) or "")
    assert any("2027" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


def test_spec_6_fallback_keeps_the_statutory_festivals_but_not_the_guessed_swaps(cal):
    """SPEC §6: without the year's notice, the festival days themselves are off (Spring Festival
    eve and three days, Labour Day's two, National Day's three, ...); the days a notice would swap
    are not guessed: Tuesday 2027-02-09 stays a working day until the overrides say otherwise."""
    assert not cal.has_data_for(2027)
    off = [
        date(2027, 2, 5),
        date(2027, 2, 8),
        date(2027, 4, 5),
        date(2027, 5, 1),
        date(2027, 6, 9),
        date(2027, 9, 15),
        date(2027, 10, 1),
    ]
    assert not any(cal.is_working_day(d) for d in off)
    assert cal.is_working_day(date(2027, 2, 9))
    assert not cal.is_working_day(date(2027, 2, 20))  # an ordinary Saturday


def test_spec_6_overrides_add_the_notices_swaps_to_a_fallback_year(caplog):
    """SPEC §6: the notice's swaps go in the overrides (no deploy): a day off and a weekend
    working day of 2027 are taken, the statutory days stay, and no warning is logged."""
    cal = WorkingCalendar(CalendarSettings(extra_holidays=(date(2027, 2, 9),), extra_working_days=(date(2027, 2, 20),)))
    with caplog.at_level(logging.WARNING, logger="domain.calendar"):
        assert not cal.is_working_day(date(2027, 2, 9))
        assert cal.is_working_day(date(2027, 2, 20))
        assert not cal.is_working_day(date(2027, 2, 8))
    assert cal.why_not_working(date(2027, 2, 9)) == "holiday in the calendar overrides"
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
