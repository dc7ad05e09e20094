"""Checks on language-model output before a client may read it.

A reply is rejected when it diagnoses, talks about medication or doses, claims to be a person or
a clinician, mentions means or acts of self-harm, leaves the exercise (too long, off-topic, formatted
like a document), gives contact details that are not our crisis lines, or is in the wrong language.
Phrase and pattern lists live in ``data/guardrails.toml``. A failing check makes the LLM engine fall
back to the scripted reply; the reasons are returned for the caller to record.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from functools import cache
from types import MappingProxyType

from service.exercises.coach import checks
from service.exercises.coach.engine import CoachContext
from service.exercises.coach.texts import data_file
from service.kit.i18n import SUPPORTED_LOCALES as LOCALES
from service.kit.text import fold

# Reasons, in the order they are checked.
EMPTY = "empty"
TOO_LONG = "too_long"
DIAGNOSIS = "diagnosis"
MEDICATION = "medication"
HUMAN_CLAIM = "human_claim"
SELF_HARM = "self_harm"
OFF_TOPIC = "off_topic"
CONTACT_DETAILS = "contact_details"
WRONG_LANGUAGE = "wrong_language"
# The persona evaluation's checks, held against a model reply too (service/exercises/coach/checks.py).
DOSE_ADVICE = "dose_advice"
FIRST_PERSON_ECHO = "first_person_echo"
PRAISE_NON_ANSWER = "praise_non_answer"
# Turns that are not answers: a model must not praise them as one.
_NOT_ANSWERS = frozenset({"dont_know", "filler", "hostile", "off_topic", "disclosure", "medication", "stop"})
_PATTERN_REASONS = (DIAGNOSIS, MEDICATION, HUMAN_CLAIM, SELF_HARM, OFF_TOPIC)


@dataclasses.dataclass(frozen=True)
class GuardrailVerdict:
    ok: bool
    reasons: list[str]


def check_output(text: str, ctx: CoachContext, *, client: str = "", turn: str = "answer") -> GuardrailVerdict:
    """Whether ``text``, written by a language model, may be shown to the client of ``ctx``;
    ``client`` is the message it answers and ``turn`` how the scripted coach read it."""
    rules = _rules()
    if not text.strip():
        return GuardrailVerdict(ok=False, reasons=[EMPTY])
    reasons = []
    if len(text) > rules.max_characters or len(text.strip().splitlines()) > rules.max_lines:
        reasons.append(TOO_LONG)
    folded = _fold_keep_lines(text)
    reasons += [reason for reason in _PATTERN_REASONS if _matches(rules.patterns[reason], folded)]
    if _unknown_contacts(folded, ctx.allowed_contacts):
        reasons.append(CONTACT_DETAILS)
    if _wrong_language(folded, ctx.lang):
        reasons.append(WRONG_LANGUAGE)
    if checks.dose_advice(text, ctx.lang) and MEDICATION not in reasons:
        reasons.append(DOSE_ADVICE)
    if checks.human_claim(text, ctx.lang) and HUMAN_CLAIM not in reasons:
        reasons.append(HUMAN_CLAIM)
    if client and checks.echoes_first_person(client, text, ctx.lang):
        reasons.append(FIRST_PERSON_ECHO)
    if turn in _NOT_ANSWERS and checks.praises(text, ctx.lang):
        reasons.append(PRAISE_NON_ANSWER)
    return GuardrailVerdict(ok=not reasons, reasons=reasons)


@dataclasses.dataclass(frozen=True)
class _Rules:
    max_characters: int
    max_lines: int
    patterns: Mapping[str, tuple[re.Pattern[str], ...]]
    urls: tuple[re.Pattern[str], ...]
    emails: tuple[re.Pattern[str], ...]
    phones: tuple[re.Pattern[str], ...]
    min_phone_digits: int
    allowed_numbers: frozenset[str]
    allowed_urls: frozenset[str]
    language_words: Mapping[str, frozenset[str]]
    min_language_hits: int


@cache
def _rules() -> _Rules:
    data = data_file("guardrails.toml")
    contacts = data["contacts"]

    def compiled(patterns: Iterable[str]) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(fold_pattern(p)) for p in patterns)

    return _Rules(
        max_characters=int(data["limits"]["max_characters"]),
        max_lines=int(data["limits"]["max_lines"]),
        patterns=MappingProxyType({reason: compiled(data["patterns"][reason]) for reason in _PATTERN_REASONS}),
        urls=compiled(contacts["url"]),
        emails=compiled(contacts["email"]),
        phones=compiled(contacts["phone"]),
        min_phone_digits=int(contacts["min_phone_digits"]),
        allowed_numbers=frozenset(_digits(n) for n in contacts["allowed_numbers"]),
        allowed_urls=frozenset(_bare_url(u) for u in contacts["allowed_urls"]),
        language_words=MappingProxyType({lang: frozenset(fold(w) for w in data["language"][lang]) for lang in LOCALES}),
        min_language_hits=int(data["language"]["min_hits"]),
    )


def fold_pattern(pattern: str) -> str:
    """Patterns are matched on folded text, so their accents go too ("dépression" typed into a
    pattern still matches). ASCII is kept as written: "\\S" and "\\s" mean different things."""
    return "".join(c if c.isascii() else fold(c) for c in pattern)


def _fold_keep_lines(text: str) -> str:
    # fold() joins lines, but markdown checks need them; fold each line on its own.
    return "\n".join(fold(line) for line in text.splitlines())


def _matches(patterns: Iterable[re.Pattern[str]], folded: str) -> bool:
    return any(p.search(folded) for p in patterns)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _bare_url(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", fold(url)).rstrip("/.")


def _unknown_contacts(folded: str, allowed_contacts: tuple[str, ...]) -> bool:
    rules = _rules()
    numbers = rules.allowed_numbers | {_digits(c) for c in allowed_contacts if _digits(c)}
    urls = rules.allowed_urls | {_bare_url(c) for c in allowed_contacts if not _digits(c) or "." in c}
    for pattern in rules.urls:
        if any(_bare_url(m.group(0)) not in urls for m in pattern.finditer(folded)):
            return True
    if _matches(rules.emails, folded):
        return True
    return any(not _known_number(number, numbers) for number in _phone_numbers(folded))


def _phone_numbers(folded: str) -> list[str]:
    rules = _rules()
    found = []
    long_numbers, after_call_verbs = rules.phones
    for match in long_numbers.finditer(folded):
        digits = _digits(match.group(0))
        if len(digits) >= rules.min_phone_digits:
            found.append(digits)
    found += [_digits(m.group(1)) for m in after_call_verbs.finditer(folded)]
    return found


def _known_number(digits: str, allowed: frozenset[str] | set[str]) -> bool:
    if digits in allowed:
        return True
    # "+33 9 72 39 40 50" is "09 72 39 40 50": compare national numbers on their last nine digits.
    return len(digits) >= 9 and any(len(a) >= 9 and a[-9:] == digits[-9:] for a in allowed)


def _wrong_language(folded: str, lang: str) -> bool:
    rules = _rules()
    words = re.findall(r"[a-z']+", folded)
    own = sum(w in rules.language_words[lang] for w in words)
    other = max(sum(w in rules.language_words[o] for w in words) for o in LOCALES if o != lang)
    return other >= rules.min_language_hits and other > 2 * own
