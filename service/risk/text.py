"""Screening a client's free text: check-in notes, exercise answers, messages to the coach."""

from __future__ import annotations

from service.errors import Invalid
from service.risk.context import MessageContext
from service.risk.levels import Evidence, RiskResult
from service.risk.locales import primary_language
from service.risk.normalize import normalize
from service.risk.rulebook import LANGUAGES, RULEBOOKS, RuleBook


def screen_text(text: str, lang: str) -> RiskResult:
    """Screen one message written in `lang` ("en", "fr", or a tag such as "fr-CA").

    A message in a language without its own rules is screened with every rule set, so nothing a
    client writes goes unscreened.
    """
    if not isinstance(text, str):
        raise Invalid("The text to screen must be a string.")
    evidence: list[Evidence] = []
    for book in rulebooks_for(lang):
        evidence.extend(find_evidence(book, text))
    return RiskResult.from_evidence(evidence)


def rulebooks_for(lang: str | None) -> list[RuleBook]:
    primary = primary_language(lang)
    if primary in RULEBOOKS:
        return [RULEBOOKS[primary]]
    return [RULEBOOKS[code] for code in LANGUAGES]


def find_evidence(book: RuleBook, text: str) -> list[Evidence]:
    normalized = normalize(text, book.speller)
    candidates, idioms_possible = book.candidates(normalized.text)
    if not candidates:
        return []
    context = MessageContext(normalized.text, book.context, idioms_possible)
    found: list[Evidence] = []
    for rule in candidates:
        for match in rule.regex.finditer(normalized.text):
            level = context.level_for(rule, match.start(), match.end())
            if level is not None:
                words = normalized.original_span(match.start(), match.end())
                found.append(Evidence(rule.id, rule.category, words, level))
    return found
