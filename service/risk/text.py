"""Screening a client's free text: check-in notes, exercise answers, messages to the coach.

Two stages, per language: the reviewed rules and frames of rules/<lang>.toml, then the learned model
of learned/<lang>.json. The final level is the higher of the two: the model can only raise a level.
Any text gives a result: empty, very long (screened whole, never cut), emoji only, control characters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from service.errors import Invalid
from service.risk.context import MessageContext
from service.risk.features import rule_features
from service.risk.frames import FRAMEBOOKS, FrameBook, Presence, find_frames
from service.risk.levels import Evidence, RiskLevel, RiskResult
from service.risk.locales import primary_language
from service.risk.model import LearnedModel, load_models
from service.risk.normalize import NormalizedText, normalize
from service.risk.rulebook import LANGUAGES, RULEBOOKS, RuleBook

MODELS: dict[str, LearnedModel] = load_models()

# Screenings of one request (see ``screenings_remembered``): text and language -> result.
_remembered: ContextVar[dict[tuple[str, str], RiskResult] | None] = ContextVar("remembered_screenings", default=None)


@contextmanager
def screenings_remembered() -> Iterator[None]:
    """Within this block (one request), the same text screened again in the same language gives the
    first result without screening it again: admission screens a check-in's note before anything
    waits, then the check-in screens it in the patient's language, which admission already did.
    Held for the request only, never across requests (it is client text)."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def screen_text(
    text: str, lang: str, models: Mapping[str, LearnedModel] | None = None, gate: bool = True
) -> RiskResult:
    """Screen one message written in `lang` ("en", "fr", or a tag such as "fr-CA").

    A message in a language without its own rules is screened with every rule set and model, so
    nothing a client writes goes unscreened; in a known language, the other languages' rules (not
    their models) read it as well. `models` replaces the packaged models (evaluation);
    `gate=False` lets the model read a text without any warning-sign concept (conversations use it
    to weigh signs together, never to raise a single message).
    """
    if not isinstance(text, str):
        raise Invalid("The text to screen must be a string.")
    remembered = _remembered.get() if models is None and gate else None
    if remembered is not None and (text, lang) in remembered:
        return remembered[(text, lang)]
    result = _screen(text, lang, MODELS if models is None else models, gate)
    if remembered is not None:
        remembered[(text, lang)] = result
    return result


def _screen(text: str, lang: str, use: Mapping[str, LearnedModel], gate: bool) -> RiskResult:
    evidence: list[Evidence] = []
    books = rulebooks_for(lang)
    for book in books:
        evidence.extend(screen_with(book, text, use.get(book.lang), gate))
    # Clients switch languages ("I want to kill myself tonight" from a French-speaking client): the
    # other languages' rules read every message too. Their models do not: a model reading a language
    # it was not trained on only adds noise.
    for book in RULEBOOKS.values():
        if book not in books:
            evidence.extend(screen_with(book, text, None, gate))
    return RiskResult.from_evidence(evidence)


def screen_rules(text: str, lang: str) -> RiskResult:
    """The first stage alone: rules and frames, no learned model."""
    return screen_text(text, lang, models={})


def screen_with(book: RuleBook, text: str, model: LearnedModel | None, gate: bool = True) -> list[Evidence]:
    """Rule and frame evidence for one language, plus the model's when it gives a higher level."""
    normalized = normalize(text, book.speller)
    framebook = FRAMEBOOKS.get(book.lang)
    present = framebook.presence(normalized.text) if framebook is not None else None
    notes: set[str] = set()
    evidence = evidence_in(book, normalized, present, notes)
    if model is None:
        return evidence
    reading = how_read(framebook, present, evidence, notes)
    outside = cleared = False
    if reading == "outside":
        # Outside the gate the model reads only texts long enough, against its own, stricter
        # thresholds; without the gate (a message among others), against the same thresholds.
        if gate and not model.reads_outside(normalized.text):
            return evidence
        outside = True
    elif reading == "cleared" and model.cleared_thresholds is not None:
        # Risk words the context cleared: a second look, against thresholds of their own.
        cleared = True
    elif reading == "cleared" and gate:
        return evidence
    ruled = max((item.level for item in evidence), default=RiskLevel.NONE)
    if ruled is RiskLevel.HIGH:  # the model can only raise a level: nothing left to read
        return evidence
    level, _probs, learned = model.screen(
        normalized.text, rule_features(evidence), explain_above=ruled, outside=outside, cascade=gate, cleared=cleared
    )
    if level > ruled:
        evidence.extend(learned)
    return evidence


def context_cleared(evidence: list[Evidence], notes: set[str]) -> bool:
    """The rules found risk words, their context cleared every one (a negation, someone else, an
    idiom), and nothing else was found."""
    return "cleared" in notes and not evidence


def how_read(
    framebook: FrameBook | None, present: set[str] | Presence | None, evidence: list[Evidence], notes: set[str]
) -> str:
    """How the learned model may read a text (screening and training ask this, the gate looked at once):
    - "cleared": the rules found risk words, their context cleared them all and nothing else was found
      ("I don't want to die", "my friend cuts herself"): the model cannot read negation or who is
      speaking, the rules can; it may only take a second look, against thresholds of its own;
    - "outside": the text holds no warning-sign concept (the rule file's [model] gate): an ordinary
      note, read only when long enough and against stricter thresholds;
    - "inside": the model may raise it against its thresholds."""
    if context_cleared(evidence, notes):
        return "cleared"
    if framebook is not None and present is not None and not framebook.gate_open(present):
        return "outside"
    return "inside"


def rulebooks_for(lang: str | None) -> list[RuleBook]:
    primary = primary_language(lang)
    if primary in RULEBOOKS:
        return [RULEBOOKS[primary]]
    return [RULEBOOKS[code] for code in LANGUAGES]


def find_evidence(book: RuleBook, text: str) -> list[Evidence]:
    return evidence_in(book, normalize(text, book.speller))


def evidence_in(
    book: RuleBook,
    normalized: NormalizedText,
    present: set[str] | Presence | None = None,
    notes: set[str] | None = None,
) -> list[Evidence]:
    """What the rules and frames find in a text already normalised with the book's speller
    (`present`: the rule file's concepts in it, when already known)."""
    candidates, idioms_possible = book.candidates(normalized.text)
    found: list[Evidence] = []
    if candidates:
        context = MessageContext(normalized.text, book.context, idioms_possible)
        for rule in candidates:
            for match in rule.regex.finditer(normalized.text):
                level = context.level_for(rule, match.start(), match.end())
                if level is None and notes is not None:
                    notes.add("cleared")
                if level is not None:
                    words = normalized.original_span(match.start(), match.end())
                    found.append(Evidence(rule.id, rule.category, words, level))
    # A frame fills a gap the phrase rules left: it is kept when no rule already gave its category
    # at its level or higher, so the evidence stays short and names the reviewed phrase first.
    for frame in find_frames(book, normalized, present, notes):
        if not any(item.category == frame.category and item.level >= frame.level for item in found):
            found.append(frame)
    return found
