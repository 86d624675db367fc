"""Settings: one typed object from defaults, a TOML file and the environment (SPEC: every number
is a setting), and the calendar overrides read again for every new claim (SPEC §6)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.rules import RulesActivities
from config.settings import SettingsError, load_settings
from domain.calendar import WorkingCalendar
from domain.contracts import LoadRulesInput


def test_file_then_environment_override_defaults(tmp_path: Path) -> None:
    """R-A-2's 3000 is a setting: a branch file changes it, and the environment wins over the file."""
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text(
        'task_queue = "branch-sh"\n[rules.thresholds]\nsmall_claim_own_max = "2500"\nmajor_loss_min = "80000"\n'
    )
    settings = load_settings(settings_file, {"PREMIUM_CLAIMS_RULES__THRESHOLDS__MAJOR_LOSS_MIN": "60000"})
    assert settings.task_queue == "branch-sh"
    assert settings.rules.thresholds.small_claim_own_max == Decimal("2500.00")
    assert settings.rules.thresholds.major_loss_min == Decimal("60000.00")


def test_bad_setting_is_refused_with_its_name(tmp_path: Path) -> None:
    """Issue 15.4: a settings error names the variable that set it, never its value."""
    with pytest.raises(SettingsError, match="PREMIUM_CLAIMS_RULES__THRESHOLDS__SMALL_CLAIM_OWN_MAX: ") as bad:
        load_settings(None, {"PREMIUM_CLAIMS_RULES__THRESHOLDS__SMALL_CLAIM_OWN_MAX": "lots"})
    assert "lots" not in str(bad.value)
    with pytest.raises(SettingsError, match="PREMIUM_CLAIMS_UNKNOWN_THING: no such setting"):
        load_settings(None, {"PREMIUM_CLAIMS_UNKNOWN_THING": "1"})
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text('api_port = "nine"\n')
    with pytest.raises(SettingsError, match=f"api_port in {settings_file}: ") as in_file:
        load_settings(settings_file, {})
    assert "nine" not in str(in_file.value)


def test_issue_15_5_the_client_address_follows_the_dev_server_port() -> None:
    """Moving the dev server's port moves every command's address, unless the address is set."""
    assert load_settings(None, {}).temporal_address == "localhost:7233"
    assert load_settings(None, {"PREMIUM_CLAIMS_DEV_SERVER_PORT": "15233"}).temporal_address == "localhost:15233"
    both = {"PREMIUM_CLAIMS_DEV_SERVER_PORT": "15233", "PREMIUM_CLAIMS_TEMPORAL_ADDRESS": "temporal.prod:7233"}
    assert load_settings(None, both).temporal_address == "temporal.prod:7233"


def test_the_temporal_ui_url_is_the_ui_port_unless_set() -> None:
    """One place for where staff's browsers reach the UI: `claims run` prints it, the operations
    page and `claims ops` link into it."""
    assert load_settings(None, {"PREMIUM_CLAIMS_UI_PORT": "18233"}).ui_url() == "http://localhost:18233"
    behind_proxy = {"PREMIUM_CLAIMS_UI_PORT": "18233", "PREMIUM_CLAIMS_TEMPORAL_UI_URL": "https://temporal.example"}
    assert load_settings(None, behind_proxy).ui_url() == "https://temporal.example"


async def test_calendar_override_file_reaches_the_next_claim_without_restart(tmp_path: Path) -> None:
    """SPEC §6: a day added to the override file is a holiday for the next claim's rules."""
    overrides = tmp_path / "calendar.toml"
    settings = load_settings(None, {"PREMIUM_CLAIMS_CALENDAR_OVERRIDES": str(overrides)})
    rules_activity = RulesActivities(settings.current_rules).load_rules
    wednesday = date(2026, 12, 2)
    before = await ActivityEnvironment().run(rules_activity, LoadRulesInput())
    assert WorkingCalendar(before.calendar).is_working_day(wednesday)
    overrides.write_text("extra_holidays = [2026-12-02]\n")
    after = await ActivityEnvironment().run(rules_activity, LoadRulesInput())
    assert not WorkingCalendar(after.calendar).is_working_day(wednesday)
    due = WorkingCalendar(after.calendar).due_within_working_days(datetime(2026, 12, 1, 4, tzinfo=UTC), 1)
    assert due.date() == date(2026, 12, 3)


def test_override_file_with_unknown_key_is_refused(tmp_path: Path) -> None:
    overrides = tmp_path / "calendar.toml"
    overrides.write_text("extra_holiday = [2026-12-02]\n")
    settings = load_settings(None, {"PREMIUM_CLAIMS_CALENDAR_OVERRIDES": str(overrides)})
    with pytest.raises(ValueError, match="extra_holiday"):
        settings.current_rules()
