"""The business settings as an activity: a claim asks for them once, at its start.

A claim records the settings it got in its history and keeps them for its whole life, so a
changed file affects new claims only.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from temporalio import activity

from domain.contracts import ActivityName, LoadRulesInput
from domain.rules import RuleSettings

log = structlog.get_logger(__name__)


class RulesActivities:
    """Hands each new claim the rules in force: a fixed object, or a callable read at every claim
    (the worker passes one that re-reads the calendar overrides file, so no deploy is needed)."""

    def __init__(self, rules: RuleSettings | Callable[[], RuleSettings]) -> None:
        self._rules = rules if callable(rules) else (lambda: rules)

    @activity.defn(name=ActivityName.LOAD_RULES)
    async def load_rules(self, input: LoadRulesInput) -> RuleSettings:
        # One settings object per worker today; `branch` is where per-branch settings will plug in.
        log.debug("rules.loaded", branch=input.branch)
        return self._rules()
