"""Screening questionnaire answers: PHQ-9, GAD-7, the C-SSRS screener, and reliable deterioration.

Item 9 alone misses many people at risk (shared/clinical.md), which is why free text and trends
are screened too; these rules are the part the questionnaires can tell.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.errors import Invalid
from service.risk.levels import Evidence, RiskLevel, RiskResult
from service.risk.version import RULES_DIR

_CSSRS_ITEMS = ("1", "2", "3", "4", "5", "6", "6b")


@dataclass(frozen=True, slots=True)
class Questionnaire:
    code: str  # as in rule ids: "phq9"
    name: str  # as clinicians write it: "PHQ-9"
    items: int
    answer_max: int
    severe_total: int
    reliable_change: int

    @property
    def total_max(self) -> int:
        return self.items * self.answer_max


@dataclass(frozen=True, slots=True)
class CssrsItem:
    number: str
    category: str
    level: RiskLevel


@dataclass(frozen=True, slots=True)
class CssrsBehaviour:
    number: str
    category: str
    recent_level: RiskLevel
    past_level: RiskLevel


_Loaded = tuple[Questionnaire, Questionnaire, int, int, list[CssrsItem], CssrsBehaviour]


def _load(data: Mapping[str, Any]) -> _Loaded:
    def questionnaire(code: str, name: str) -> Questionnaire:
        section = data[code]
        return Questionnaire(
            code,
            name,
            section["items"],
            section["answer_max"],
            section["severe_total"],
            section["reliable_change"],
        )

    phq9 = questionnaire("phq9", "PHQ-9")
    items = [
        CssrsItem(str(item["number"]), item["category"], RiskLevel.parse(item["level"]))
        for item in data["cssrs"]["item"]
    ]
    behaviour = data["cssrs"]["behaviour"]
    return (
        phq9,
        questionnaire("gad7", "GAD-7"),
        data["phq9"]["item9_low"],
        data["phq9"]["item9_moderate"],
        items,
        CssrsBehaviour(
            str(behaviour["number"]),
            behaviour["category"],
            RiskLevel.parse(behaviour["recent_level"]),
            RiskLevel.parse(behaviour["past_level"]),
        ),
    )


PHQ9, GAD7, ITEM9_LOW, ITEM9_MODERATE, CSSRS_ITEMS, CSSRS_BEHAVIOUR = _load(
    tomllib.loads((RULES_DIR / "instruments.toml").read_text(encoding="utf-8"))
)
_BY_CODE = {PHQ9.code: PHQ9, GAD7.code: GAD7}


def screen_phq9(answers: Sequence[int]) -> RiskResult:
    """Item 9 at 1 is low, at 2 or more moderate; a severe total (20+) is at least low."""
    scores = _scores(PHQ9, answers)
    evidence: list[Evidence] = []
    item9 = scores[8]
    if item9 >= ITEM9_LOW:
        level = RiskLevel.MODERATE if item9 >= ITEM9_MODERATE else RiskLevel.LOW
        evidence.append(Evidence("phq9.item9", "phq9_item9", f"PHQ-9 item 9 = {item9}", level))
    evidence.extend(_severe_total(PHQ9, scores))
    return RiskResult.from_evidence(evidence)


def screen_gad7(answers: Sequence[int]) -> RiskResult:
    """A severe total (15+) is low: anxiety alone is not a suicide signal, but the clinician should know."""
    return RiskResult.from_evidence(_severe_total(GAD7, _scores(GAD7, answers)))


def screen_cssrs(answers: Sequence[int]) -> RiskResult:
    """C-SSRS screener triage. `answers` are 0/1 for items 1, 2, 3, 4, 5, 6 and 6b (skipped items are 0).

    High: yes to 4 or 5, or to 6 within the past 3 months. Moderate: yes to 3, or to 6 longer ago.
    Low: yes to 1 or 2 only. Every yes is kept as evidence, even one the flow should have skipped.
    """
    if isinstance(answers, str | bytes) or len(answers) != len(_CSSRS_ITEMS):
        raise Invalid("The C-SSRS screener needs 7 answers: items 1, 2, 3, 4, 5, 6 and 6b.")
    given = dict(zip(_CSSRS_ITEMS, answers, strict=True))
    for number, answer in given.items():
        if not _is_int(answer) or answer not in (0, 1):
            raise Invalid(f"C-SSRS item {number}: the answer must be 0 (no) or 1 (yes).")
    evidence = [
        Evidence(f"cssrs.item{item.number}", item.category, f"C-SSRS item {item.number} = yes", item.level)
        for item in CSSRS_ITEMS
        if given[item.number]
    ]
    behaviour = CSSRS_BEHAVIOUR
    if given[behaviour.number]:
        recent = bool(given["6b"])
        evidence.append(
            Evidence(
                f"cssrs.item{behaviour.number}",
                behaviour.category,
                f"C-SSRS item 6 = yes, 6b (past 3 months) = {'yes' if recent else 'no'}",
                behaviour.recent_level if recent else behaviour.past_level,
            )
        )
    return RiskResult.from_evidence(evidence)


def screen_reliable_deterioration(instrument: str, baseline: int, latest: int) -> RiskResult:
    """Low when the latest total has risen reliably above the baseline (PHQ-9 +6, GAD-7 +4)."""
    questionnaire = _questionnaire(instrument)
    for name, total in (("baseline", baseline), ("latest", latest)):
        if not _is_int(total) or not 0 <= total <= questionnaire.total_max:
            raise Invalid(f"The {name} {questionnaire.name} total must be between 0 and {questionnaire.total_max}.")
    change = latest - baseline
    if change < questionnaire.reliable_change:
        return RiskResult.none()
    text = f"{questionnaire.name} total {baseline} -> {latest} (+{change})"
    return RiskResult.from_evidence(
        [Evidence(f"{questionnaire.code}.reliable_deterioration", "reliable_deterioration", text, RiskLevel.LOW)]
    )


def _severe_total(questionnaire: Questionnaire, scores: Sequence[int]) -> list[Evidence]:
    total = sum(scores)
    if total < questionnaire.severe_total:
        return []
    text = f"{questionnaire.name} total = {total}"
    return [Evidence(f"{questionnaire.code}.severe_total", "severe_symptoms", text, RiskLevel.LOW)]


def _scores(questionnaire: Questionnaire, answers: Sequence[int]) -> list[int]:
    if isinstance(answers, str | bytes) or len(answers) != questionnaire.items:
        raise Invalid(f"The {questionnaire.name} needs {questionnaire.items} answers.")
    for number, answer in enumerate(answers, start=1):
        if not _is_int(answer) or not 0 <= answer <= questionnaire.answer_max:
            raise Invalid(f"{questionnaire.name} item {number}: the answer must be 0 to {questionnaire.answer_max}.")
    return list(answers)


def _questionnaire(instrument: str) -> Questionnaire:
    code = str(instrument).lower().replace("-", "").replace("_", "").replace(" ", "")
    if code not in _BY_CODE:
        raise Invalid(f"Reliable change is defined for PHQ-9 and GAD-7, not {instrument!r}.")
    return _BY_CODE[code]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
