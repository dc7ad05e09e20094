"""Loading a language's rule file (rules/<lang>.toml) into compiled, checked rules.

Every rule file is read and compiled once, at import, so a broken file fails at start-up with the
file and entry named, never in the middle of screening a client's message.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.risk.levels import RiskLevel
from service.risk.normalize import Speller
from service.risk.patterns import (
    Factors,
    LiteralIndex,
    RuleFileError,
    compile_checked,
    compile_phrases,
    expand_terms,
    literal_factors,
    required_literals,
    whole_words,
)
from service.risk.version import RULES_DIR

LANGUAGES = ("en", "fr")
_RULE_KEYS = {
    "id", "category", "level", "description", "patterns", "examples", "counter_examples", "exclusions",
    "negatable", "check_subject", "realis", "history_level",
}  # fmt: skip
_CONTEXT_KEYS = {
    "negators", "negator_prefixes", "negator_suffixes", "negation_window", "pseudo_negations",
    "post_negations", "reported_questions", "denial_answers", "scope_breakers", "first_person",
    "third_person", "object_markers", "irrealis", "history", "recency", "intentional", "idioms", "topics",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    category: str
    level: RiskLevel
    description: str
    regex: re.Pattern[str]
    literals: frozenset[str] | None  # a message must contain one of these for the rule to be tried
    factors: Factors | None  # and, for one of its patterns, one of each of these (see patterns.literal_factors)
    negatable: bool
    check_subject: bool
    realis: bool
    history_level: RiskLevel | None
    exclusions: re.Pattern[str] | None
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]  # messages that must not raise this rule (checked by the tests)


@dataclass(frozen=True, slots=True)
class LanguageContext:
    """The word lists the shared context logic reads (see service/risk/context.py)."""

    negators: frozenset[str]
    negator_prefixes: tuple[str, ...]
    negator_suffixes: tuple[str, ...]
    negation_window: int
    pseudo_negations: re.Pattern[str] | None
    post_negations: re.Pattern[str] | None
    reported_questions: re.Pattern[str] | None
    denial_answers: re.Pattern[str] | None
    scope_breakers: re.Pattern[str] | None
    first_person: re.Pattern[str]
    third_person: re.Pattern[str]
    object_markers: frozenset[str]
    irrealis: re.Pattern[str] | None
    history: re.Pattern[str] | None
    recency: re.Pattern[str] | None
    intentional: re.Pattern[str] | None
    ignored: re.Pattern[str] | None  # idioms and topics
    ignored_literals: frozenset[str] | None  # an idiom can only be present if one of these is


_IDIOMS = -1  # the key of the idiom and topic lists in a rule book's literal index


@dataclass(frozen=True, slots=True)
class RuleBook:
    lang: str
    speller: Speller
    context: LanguageContext
    rules: tuple[Rule, ...]
    index: LiteralIndex[int]

    def candidates(self, text: str) -> tuple[list[Rule], bool]:
        """The rules worth trying on `text` (in file order), and whether an idiom may be in it."""
        found = self.index.find(text)
        rules = [self.rules[key] for key in sorted(found) if key != _IDIOMS]
        return rules, _IDIOMS in found


def load_rulebook(path: Path) -> RuleBook:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleFileError(f"{where}: cannot be read ({error})") from None
    lang = _text(data.get("language", {}), "code", where)
    terms = {name: str(value) for name, value in data.get("terms", {}).items()}
    rules = tuple(_rule(entry, terms, where, index) for index, entry in enumerate(data.get("rule", [])))
    _check_unique(rules, where)
    context = _context(data.get("context", {}), terms, where)
    literals: dict[int, frozenset[str] | None] = {index: rule.literals for index, rule in enumerate(rules)}
    factors: dict[int, Factors | None] = {index: rule.factors for index, rule in enumerate(rules)}
    if context.ignored is not None:
        literals[_IDIOMS] = context.ignored_literals
    return RuleBook(
        lang=lang,
        speller=_speller(data.get("spelling", {})),
        context=context,
        rules=rules,
        index=LiteralIndex(literals, factors),
    )


def _rule(entry: Mapping[str, Any], terms: Mapping[str, str], file_name: str, index: int) -> Rule:
    rule_id = _text(entry, "id", f"{file_name} rule number {index + 1}")
    where = f"{file_name} rule {rule_id}"
    _check_keys(entry, _RULE_KEYS, where)
    phrases = _phrases(entry, "patterns", where)
    if not phrases:
        raise RuleFileError(f"{where}: a rule needs at least one pattern")
    examples = tuple(_phrases(entry, "examples", where))
    if not examples:
        raise RuleFileError(f"{where}: a rule needs at least one example message")
    counter_examples = tuple(_phrases(entry, "counter_examples", where))
    if not counter_examples:
        raise RuleFileError(f"{where}: a rule needs at least one counter-example (a message it must not raise)")
    expanded = [expand_terms(phrase, terms, where) for phrase in phrases]
    regex = compile_checked(whole_words(expanded), where)
    history = entry.get("history_level")
    return Rule(
        id=rule_id,
        category=_text(entry, "category", where),
        level=_level(entry.get("level"), where),
        description=_text(entry, "description", where),
        regex=regex,
        literals=required_literals(expanded),
        factors=literal_factors(expanded),
        negatable=_flag(entry, "negatable", True, where),
        check_subject=_flag(entry, "check_subject", True, where),
        realis=_flag(entry, "realis", False, where),
        history_level=None if history is None else _level(history, where),
        exclusions=compile_phrases(_phrases(entry, "exclusions", where), terms, f"{where} exclusions"),
        examples=examples,
        counter_examples=counter_examples,
    )


def _context(data: Mapping[str, Any], terms: Mapping[str, str], where: str) -> LanguageContext:
    where = f"{where} [context]"
    _check_keys(data, _CONTEXT_KEYS, where)

    def phrases(key: str) -> list[str]:
        return _phrases(data, key, where)

    def words(key: str) -> re.Pattern[str] | None:
        return compile_phrases(phrases(key), terms, f"{where} {key}")

    def anchored(key: str, template: str) -> re.Pattern[str] | None:
        found = [expand_terms(phrase, terms, where) for phrase in phrases(key)]
        if not found:
            return None
        return compile_checked(template.format("|".join(f"(?:{phrase})" for phrase in found)), f"{where} {key}")

    first_person = words("first_person")
    third_person = words("third_person")
    if first_person is None or third_person is None:
        raise RuleFileError(f"{where}: first_person and third_person are required")
    ignored_phrases = [expand_terms(phrase, terms, where) for phrase in phrases("idioms") + phrases("topics")]
    window = data.get("negation_window", 6)
    if not isinstance(window, int) or window < 1:
        raise RuleFileError(f"{where}: negation_window must be a positive whole number")
    return LanguageContext(
        negators=frozenset(phrases("negators")),
        negator_prefixes=tuple(phrases("negator_prefixes")),
        negator_suffixes=tuple(phrases("negator_suffixes")),
        negation_window=window,
        pseudo_negations=words("pseudo_negations"),
        post_negations=anchored("post_negations", r"[\s:=,]*(?:{})(?![a-z0-9])"),
        reported_questions=words("reported_questions"),
        denial_answers=anchored("denial_answers", r"[\s,]*(?:{})[\s,.!]*"),
        scope_breakers=words("scope_breakers"),
        first_person=first_person,
        third_person=third_person,
        object_markers=frozenset(phrases("object_markers")),
        irrealis=anchored("irrealis", r"(?<![a-z0-9])(?:{})\s*\Z"),
        history=words("history"),
        recency=words("recency"),
        intentional=words("intentional"),
        ignored=compile_checked(whole_words(ignored_phrases), f"{where} idioms") if ignored_phrases else None,
        ignored_literals=required_literals(ignored_phrases) if ignored_phrases else frozenset(),
    )


def _speller(data: Mapping[str, Any]) -> Speller:
    variants = data.get("variants", {})
    return Speller(
        fuzzy_words=[str(word) for word in data.get("fuzzy_words", [])],
        variants={str(key): str(value) for key, value in variants.items()},
        never_correct=[str(word) for word in data.get("never_correct", [])],
    )


def _check_keys(data: Mapping[str, Any], known: set[str], where: str) -> None:
    """A misspelt key would silently drop a word list or a flag, so it is refused."""
    unknown = set(data) - known
    if unknown:
        raise RuleFileError(f"{where}: unknown keys {sorted(unknown)}")


def _check_unique(rules: Sequence[Rule], where: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleFileError(f"{where}: rule id {rule.id} is used twice")
        seen.add(rule.id)


def _text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleFileError(f"{where}: '{key}' must be a non-empty text")
    return value


def _phrases(data: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise RuleFileError(f"{where}: '{key}' must be a list of non-empty texts")
    return value


def _flag(data: Mapping[str, Any], key: str, default: bool, where: str) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise RuleFileError(f"{where}: '{key}' must be true or false")
    return value


def _level(value: object, where: str) -> RiskLevel:
    if value not in ("low", "moderate", "high"):
        raise RuleFileError(f"{where}: level must be low, moderate or high")
    return RiskLevel.parse(str(value))


RULEBOOKS: dict[str, RuleBook] = {lang: load_rulebook(RULES_DIR / f"{lang}.toml") for lang in LANGUAGES}
