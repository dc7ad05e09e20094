"""Change over an episode of care, as NHS Talking Therapies measures it.

Baseline is the first score of the episode and change runs from it to the latest score. Lower
scores are better on both the PHQ-9 and the GAD-7. Thresholds come from the instrument data files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.errors import Invalid
from service.measures.instruments import ChangeRules, Instrument, get_instrument

INSUFFICIENT_DATA = "insufficient_data"


@dataclass(frozen=True)
class Observation:
    at: datetime
    score: int

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "score": self.score}


@dataclass(frozen=True)
class Change:
    instrument: str
    status: str
    """insufficient_data (fewer than 2 scores), reliable_improvement, reliable_deterioration
    or no_reliable_change."""
    count: int
    baseline: Observation | None
    latest: Observation | None
    change: int | None
    """latest - baseline: negative is better."""
    reliable_improvement: bool
    reliable_deterioration: bool
    caseness_baseline: bool | None
    caseness_latest: bool | None
    reliable_change_threshold: int
    caseness_threshold: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument": self.instrument,
            "status": self.status,
            "count": self.count,
            "baseline": self.baseline.to_dict() if self.baseline else None,
            "latest": self.latest.to_dict() if self.latest else None,
            "change": self.change,
            "reliable_improvement": self.reliable_improvement,
            "reliable_deterioration": self.reliable_deterioration,
            "caseness_baseline": self.caseness_baseline,
            "caseness_latest": self.caseness_latest,
            "reliable_change_threshold": self.reliable_change_threshold,
            "caseness_threshold": self.caseness_threshold,
        }


@dataclass(frozen=True)
class Recovery:
    status: str
    """insufficient_data (either measure has fewer than 2 scores), not_a_case_at_baseline, or assessed."""
    caseness_baseline: bool | None
    caseness_latest: bool | None
    recovery: bool
    reliable_improvement: bool
    reliable_recovery: bool
    reliable_deterioration: bool
    phq9: Change
    gad7: Change

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "caseness_baseline": self.caseness_baseline,
            "caseness_latest": self.caseness_latest,
            "recovery": self.recovery,
            "reliable_improvement": self.reliable_improvement,
            "reliable_recovery": self.reliable_recovery,
            "reliable_deterioration": self.reliable_deterioration,
            "phq9": self.phq9.to_dict(),
            "gad7": self.gad7.to_dict(),
        }


def assess_change(instrument: str, scores: Sequence[tuple[datetime, int]]) -> Change:
    """Change from the first to the latest total of one instrument (order of `scores` does not matter)."""
    definition = get_instrument(instrument)
    observations = _observations(definition, scores)
    baseline = observations[0] if observations else None
    latest = observations[-1] if observations else None
    return _change(definition, baseline, latest, len(observations))


def change_between(
    instrument: str, first: tuple[datetime, int] | None, latest: tuple[datetime, int] | None, count: int
) -> Change:
    """The same as ``assess_change`` when only the episode's first and latest totals and how many there
    were are known (a list of many patients reads those from the database, not every total)."""
    definition = get_instrument(instrument)
    _observations(definition, [end for end in (first, latest) if end is not None])  # the same checks
    if (first is None) != (latest is None) or (count == 0) != (first is None) or (count == 1 and first != latest):
        raise Invalid(f"{count} {definition.name} totals cannot have these first and latest ones")
    baseline = Observation(*first) if first is not None else None
    last = Observation(*latest) if latest is not None else None
    return _change(definition, baseline, last, count)


def _change(definition: Instrument, baseline: Observation | None, latest: Observation | None, count: int) -> Change:
    rules = _change_rules(definition)
    change = latest.score - baseline.score if latest and baseline and count >= 2 else None
    improved = change is not None and change <= -rules.reliable_change
    deteriorated = change is not None and change >= rules.reliable_change
    return Change(
        instrument=definition.code,
        status=_change_status(change, improved, deteriorated),
        count=count,
        baseline=baseline,
        latest=latest,
        change=change,
        reliable_improvement=improved,
        reliable_deterioration=deteriorated,
        caseness_baseline=_is_case(baseline, rules),
        caseness_latest=_is_case(latest, rules),
        reliable_change_threshold=rules.reliable_change,
        caseness_threshold=rules.caseness,
    )


def _change_status(change: int | None, improved: bool, deteriorated: bool) -> str:
    if change is None:
        return INSUFFICIENT_DATA
    if improved:
        return "reliable_improvement"
    if deteriorated:
        return "reliable_deterioration"
    return "no_reliable_change"


def assess_recovery(phq9: Sequence[tuple[datetime, int]], gad7: Sequence[tuple[datetime, int]]) -> Recovery:
    """Recovery, reliable improvement and reliable recovery over the episode, on both measures.

    Like NHS Talking Therapies, recovery and improvement need both measures at baseline and at
    the latest point. Reliable deterioration on either measure is reported whenever it is known,
    because a client getting worse must never be hidden by a missing questionnaire.
    """
    depression = assess_change("phq9", phq9)
    anxiety = assess_change("gad7", gad7)
    caseness_baseline = _either(depression.caseness_baseline, anxiety.caseness_baseline)
    caseness_latest = _either(depression.caseness_latest, anxiety.caseness_latest)
    deteriorated = depression.reliable_deterioration or anxiety.reliable_deterioration
    if INSUFFICIENT_DATA in (depression.status, anxiety.status):
        status, improved, recovered = INSUFFICIENT_DATA, False, False
    else:
        improved = (depression.reliable_improvement or anxiety.reliable_improvement) and not deteriorated
        # Recovery is only defined for someone who started above a clinical threshold.
        status = "assessed" if caseness_baseline else "not_a_case_at_baseline"
        recovered = bool(caseness_baseline) and caseness_latest is False
    return Recovery(
        status=status,
        caseness_baseline=caseness_baseline,
        caseness_latest=caseness_latest,
        recovery=recovered,
        reliable_improvement=improved,
        reliable_recovery=recovered and improved,
        reliable_deterioration=deteriorated,
        phq9=depression,
        gad7=anxiety,
    )


def _change_rules(instrument: Instrument) -> ChangeRules:
    if instrument.change_rules is None:
        raise Invalid(f"{instrument.name} has no total score to follow over time")
    return instrument.change_rules


def _observations(instrument: Instrument, scores: Sequence[tuple[datetime, int]]) -> list[Observation]:
    observations = []
    top = instrument.max_total
    for at, total in scores:
        if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= top:
            raise Invalid(f"a {instrument.name} total must be a whole number from 0 to {top}")
        if not isinstance(at, datetime):
            raise Invalid(f"each {instrument.name} total needs the date and time it was given")
        observations.append(Observation(at, total))
    # A stable sort: two totals given at the same moment keep the order they were stored in.
    return sorted(observations, key=lambda observation: observation.at)


def _is_case(observation: Observation | None, rules: ChangeRules) -> bool | None:
    return None if observation is None else observation.score >= rules.caseness


def _either(first: bool | None, second: bool | None) -> bool | None:
    """True if either is True; False only when both are known and False; otherwise unknown."""
    if first or second:
        return True
    if first is False and second is False:
        return False
    return None
