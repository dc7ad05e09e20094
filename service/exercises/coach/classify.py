"""What a client's turn is, before the exercise step uses it as an answer.

Deterministic rules from ``data/turns.toml``, per language, in the manner of the risk rules. Risk
itself is screened by the caller with ``service.risk`` and passed in: a disclosure at any level is
never read as exercise data.
"""

from __future__ import annotations

import enum
import re
from functools import cache

from service.exercises.catalog import Step, StepKind
from service.exercises.coach.texts import data_file
from service.kit.i18n import pick_locale
from service.kit.text import fold
from service.risk import Evidence, RiskLevel, RiskResult

# A turn longer than this is an answer that happens to contain "I don't know" or "nothing".
_SHORT_WORDS = 12


class TurnKind(enum.StrEnum):
    ANSWER = "answer"
    DISCLOSURE = "disclosure"  # risk at low level (moderate and above never reach the engine)
    MEDICATION = "medication"
    STOP = "stop"
    AUTOMATED = "automated"  # "are you a real person?"
    SKIP = "skip"
    QUESTION = "question"  # about the exercise
    OFF_TOPIC = "off_topic"
    HOSTILE = "hostile"
    DONT_KNOW = "dont_know"
    FILLER = "filler"  # "ok", "k": no answer yet
    READY = "ready"  # "ok ready": about to do a timed step, not done yet
    ROUND_DONE = "round_done"
    ROUND_NOT_DONE = "round_not_done"
    GO_ON = "go_on"


def classify(step: Step | None, text: str, locale: str, risk_level: int = 0) -> TurnKind:
    lang = pick_locale(locale)
    folded = fold(text)
    if risk_level >= RiskLevel.LOW:
        return TurnKind.DISCLOSURE
    if _is(lang, "medication_words", folded) and _is(lang, "asking", folded):
        return TurnKind.MEDICATION
    if _is(lang, "stop", folded):
        return TurnKind.STOP
    timer = step is not None and step.kind is StepKind.TIMER
    if timer or (step is not None and step.kind is StepKind.SCALE and not re.search(r"\d", folded)):
        if _is(lang, "round_not_done", folded):
            if timer:
                return TurnKind.ROUND_NOT_DONE
        elif _is(lang, "round_done", folded):
            return TurnKind.ROUND_DONE
    if _is(lang, "human", folded):
        return TurnKind.AUTOMATED
    if _is(lang, "skip", folded):
        return TurnKind.SKIP
    if "?" in folded and _is(lang, "help_question", folded):
        return TurnKind.QUESTION
    if "?" in folded and _is(lang, "exercise_words", folded) and not _is(lang, "addressed", folded):
        return TurnKind.QUESTION
    if "?" in folded and _is(lang, "addressed", folded):
        return TurnKind.OFF_TOPIC
    if _is(lang, "hostile", folded):
        return TurnKind.HOSTILE
    short = len(folded.split()) <= _SHORT_WORDS
    if short and _is(lang, "dont_know", folded):
        return TurnKind.DONT_KNOW
    if _is(lang, "go_on", folded) and short:
        return TurnKind.GO_ON
    if (
        (timer or (step is not None and step.kind is StepKind.SCALE))
        and _is(lang, "ready", folded)
        and not re.search(r"\d", folded)
    ):
        return TurnKind.READY
    if step is not None and step.kind not in (StepKind.CONFIRM, StepKind.CHOICE) and _is(lang, "filler", folded):
        return TurnKind.FILLER
    return TurnKind.ANSWER


def strip_label(text: str, locale: str) -> str:
    """ "The thought was: she doesn't trust me" -> "she doesn't trust me"; "ok. Maybe: ..." -> "..."."""
    lang = pick_locale(locale)
    lead = _pattern(lang, "lead_filler").match(fold(text))
    if lead and lead.end() < len(text):
        # Folding keeps the length of these plain words: cut the original at the same place.
        text = text[lead.end() :].lstrip(" :")
    if _pattern(lang, "label_prefix").match(fold(text)):
        colon = text.find(":")
        return text[colon + 1 :].strip() if colon >= 0 else text
    return text


def clock_times(text: str, locale: str) -> list[tuple[int, int]]:
    """Where the message names a time of day ("6pm", "18h30", "à 19 heures"): not a rating."""
    return [m.span() for m in _pattern(pick_locale(locale), "clock_time").finditer(fold(text))]


def reframes(text: str, locale: str) -> bool:
    """The answer names a thought in order to question it ("that doesn't mean they thought...")."""
    return _is(pick_locale(locale), "reframe", fold(text))


def coach_concern(text: str, locale: str) -> RiskResult:
    """A low-level concern the coach's own phrases catch when the risk screen found nothing
    ("I just want to disappear"), unless the same message explains it away ("not like that, I mean
    from work"). It is combined with the screen's result by the caller, so it raises the same
    support block and alert as a low-risk screen."""
    lang = pick_locale(locale)
    folded = fold(text)
    match = _pattern(lang, "concern").search(folded)
    if match is None or _is(lang, "concern_explained", folded):
        return RiskResult.none()
    evidence = Evidence(rule="coach.concern", category="passive_wish", text=match.group(0), level=RiskLevel.LOW)
    return RiskResult.from_evidence([evidence])


def _is(lang: str, key: str, folded: str) -> bool:
    return _pattern(lang, key).search(folded) is not None


@cache
def _pattern(lang: str, key: str) -> re.Pattern[str]:
    return re.compile(str(data_file("turns.toml")[lang][key]))
