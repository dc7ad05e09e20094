"""Turning the phrases of a rule file into compiled regular expressions.

A phrase is a Python regular expression over the normalised text, written with plain spaces and
`<name>` for a term of the rule file (`i want to kill <self>`). Phrases match whole words only.
For speed, each phrase also yields the literal strings that any match must contain: a rule is only
tried on a message that contains one of them, which is most of what keeps screening fast.
"""

from __future__ import annotations

import importlib
import operator
import re
import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

import ahocorasick

# The regex parser is private but stable; if it ever moves, rules are simply always tried.
try:
    sre_parse: Any = importlib.import_module("re._parser")
    sre_constants: Any = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - depends on the Python version
    sre_parse = None

_TERM = re.compile(r"<([a-z][a-z0-9_]*)>")
# Literals are indexed by three-character windows; shorter ones are not worth indexing.
_MIN_LITERAL = 3

Key = TypeVar("Key", bound=Hashable)


class RuleFileError(ValueError):
    """A rule file that cannot be used. The message names the file and the entry."""


def expand_terms(phrase: str, terms: Mapping[str, str], where: str, _depth: int = 0) -> str:
    if _depth > 8:
        raise RuleFileError(f"{where}: terms refer to each other in a loop")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in terms:
            raise RuleFileError(f"{where}: unknown term <{name}>")
        return "(?:" + expand_terms(terms[name], terms, where, _depth + 1) + ")"

    return _TERM.sub(replace, phrase)


def whole_words(phrases: Iterable[str]) -> str:
    """One alternation that only matches whole words (letters and digits are word characters).

    A phrase may end on an elision ("qu'", "j'"), which the next word follows directly.
    """
    alternatives = "|".join(f"(?:{phrase})" for phrase in phrases)
    return f"(?<![a-z0-9])(?:{alternatives})(?:(?<=')|(?![a-z0-9]))"


def compile_phrases(phrases: Iterable[str], terms: Mapping[str, str], where: str) -> re.Pattern[str] | None:
    expanded = [expand_terms(phrase, terms, where) for phrase in phrases]
    if not expanded:
        return None
    return compile_checked(whole_words(expanded), where)


_ESCAPE = re.compile(r"\\.")
_EMPTY_ALTERNATIVE = re.compile(r"\|\||\((?:\?:)?\||\|\)")


def compile_checked(pattern: str, where: str) -> re.Pattern[str]:
    # Messages are matched after normalisation: a capital or an accent in a phrase never matches.
    letters = _ESCAPE.sub("", pattern)
    if not letters.isascii() or letters != letters.lower():
        raise RuleFileError(f"{where}: write patterns in normalised form (lowercase, without accents)")
    # An empty alternative ("a||b", "(?:|x)") silently lets a phrase match almost anything.
    if _EMPTY_ALTERNATIVE.search(pattern):
        raise RuleFileError(f"{where}: a pattern has an empty alternative ('||', '(|' or '|)')")
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise RuleFileError(f"{where}: invalid pattern ({error})") from None
    if compiled.match(""):
        raise RuleFileError(f"{where}: a pattern matches an empty text")
    return compiled


def required_literals(phrases: Iterable[str]) -> frozenset[str] | None:
    """Strings one of which every match of any of `phrases` must contain; None if some phrase has none."""
    found: set[str] = set()
    for phrase in phrases:
        literals = _phrase_literals(phrase)
        if literals is None:
            return None
        found |= literals
    return frozenset(found)


def _phrase_literals(phrase: str) -> frozenset[str] | None:
    factors = _phrase_factors(phrase)
    return None if factors is None else _best(list(factors))


# Per phrase, the sets of literals every match of it contains a member of (see `literal_factors`).
Factors = tuple[tuple[frozenset[str], ...], ...]


def literal_factors(phrases: Iterable[str]) -> Factors | None:
    """Per phrase, every set of literals one of which any match of it must contain (each set long
    enough to be indexed); None if some phrase has none (as `required_literals`).

    `required_literals` keeps one set per phrase, enough to say that a text may hold a match; a text
    that lacks any other set of every phrase holds none, and its rule need not be tried at all (most
    rules whose literal is in a message do not match it: "envie ", " pour ", "encore").
    """
    found: list[tuple[frozenset[str], ...]] = []
    for phrase in phrases:
        factors = _phrase_factors(phrase)
        if not factors:
            return None
        found.append(factors)
    return tuple(found)


def _phrase_factors(phrase: str) -> tuple[frozenset[str], ...] | None:
    if sre_parse is None:  # pragma: no cover
        return None
    try:
        parsed = sre_parse.parse(phrase)
    except Exception:  # a phrase the parser rejects is reported by compile_checked
        return None
    return tuple(option for option in _factors(list(parsed)) if min(map(len, option)) >= _MIN_LITERAL)


_MAX_EXACT = 64  # beyond this many spellings, a piece of a phrase is not expanded
_SELECTIVE = 5  # literals this long are rare enough in messages; fewer of them is then better


def _factors(sequence: list[tuple[Any, Any]]) -> list[frozenset[str]]:
    """Sets of literals found in a parsed sequence; every match contains a member of each set.

    Consecutive pieces whose spellings can be listed ("kill", "(?:my|our) ", "s?") are expanded
    together, so "(?:gave|giving) away" yields {"gave away", "giving away"}.
    """
    found: list[frozenset[str]] = []
    run: set[str] = {""}

    def flush() -> None:
        nonlocal run
        if run != {""}:
            found.append(frozenset(run))
        run = {""}

    for item in sequence:
        exact = _exact_item(item)
        if exact is not None:
            joined = {left + right for left in run for right in exact}
            if len(joined) > _MAX_EXACT:
                flush()
                joined = set(exact)
            run = joined
            continue
        flush()
        inner = _inner_best(item)
        if inner:
            found.append(inner)
    flush()
    return found


def _inner_best(item: tuple[Any, Any]) -> frozenset[str] | None:
    c = sre_constants
    op, arg = item
    if op is c.SUBPATTERN:
        return _best(_factors(list(arg[-1])))
    if op is c.ATOMIC_GROUP:
        return _best(_factors(list(arg)))
    if op is c.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            best = _best(_factors(list(branch)))
            if best is None:
                return None
            union |= best
        return frozenset(union)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, _high, body = arg
        return _best(_factors(list(body))) if low >= 1 else None
    return None


def _exact(sequence: list[tuple[Any, Any]]) -> set[str] | None:
    """Every string `sequence` can match, if there are few of them; else None."""
    strings = {""}
    for item in sequence:
        exact = _exact_item(item)
        if exact is None:
            return None
        strings = {left + right for left in strings for right in exact}
        if len(strings) > _MAX_EXACT:
            return None
    return strings


def _exact_item(item: tuple[Any, Any]) -> set[str] | None:
    c = sre_constants
    op, arg = item
    if op is c.LITERAL:
        return {chr(arg)}
    if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
        return {""}  # assertions consume nothing
    if op is c.IN:
        members = list(arg)
        if len(members) <= 4 and all(member_op is c.LITERAL for member_op, _ in members):
            return {chr(value) for _, value in members}
        return None
    if op is c.SUBPATTERN:
        return _exact(list(arg[-1]))
    if op is c.BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            exact = _exact(list(branch))
            if exact is None:
                return None
            union |= exact
        return union if len(union) <= _MAX_EXACT else None
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        low, high, body = arg
        if (low, high) == (1, 1):
            return _exact(list(body))
        if (low, high) == (0, 1):
            exact = _exact(list(body))
            return None if exact is None else exact | {""}
    return None


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    """The most selective set: longest shortest literal (up to a point), then the fewest literals."""
    usable = [option for option in options if min(map(len, option)) >= _MIN_LITERAL]
    return max(usable, key=lambda option: (min(*map(len, option), _SELECTIVE), -len(option)), default=None)


def _others(factors: tuple[frozenset[str], ...]) -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """A phrase's most selective set of literals (the one `required_literals` keeps), and the rest."""
    best = _best(list(factors))
    assert best is not None
    return best, tuple(option for option in factors if option is not best)


class LiteralIndex(Generic[Key]):
    """Which keys (rules, idiom lists) have one of their required literals in a text.

    The literals of every index are looked for together, in one pass over the text (see
    `_LiteralScanner`); a message is looked up in the rules' and the concepts' index of each
    language one after the other, and the scan of its text is reused. A key without literals is
    always found. A key given with its phrases' `literal_factors` is found only when one of its
    phrases has a literal of every one of its sets in the text (a phrase is looked at only when the
    text holds a literal of its most selective set, the one `required_literals` keeps).
    """

    def __init__(
        self,
        literals_by_key: Mapping[Key, frozenset[str] | None],
        factors_by_key: Mapping[Key, Factors | None] | None = None,
    ) -> None:
        factors_by_key = factors_by_key or {}
        self._always = frozenset(key for key, literals in literals_by_key.items() if not literals)
        keys_by_literal: dict[str, list[Key]] = {}
        # literal -> the phrases whose most selective set holds it: their key and their other sets.
        phrases_by_literal: dict[str, list[tuple[Key, tuple[frozenset[str], ...]]]] = {}
        for key, literals in literals_by_key.items():
            factors = factors_by_key.get(key)
            if literals and factors:
                for phrase in factors:
                    best, others = _others(phrase)
                    for literal in best:
                        phrases_by_literal.setdefault(literal, []).append((key, others))
                continue
            for literal in literals or ():
                keys_by_literal.setdefault(literal, []).append(key)
        self._keys_by_literal: dict[str, tuple[Key, ...]] = {
            literal: tuple(keys) for literal, keys in keys_by_literal.items()
        }
        self._phrases_by_literal = {literal: tuple(phrases) for literal, phrases in phrases_by_literal.items()}
        self._literals = frozenset(keys_by_literal)
        self._phrase_literals = frozenset(phrases_by_literal)
        every = {
            literal for factors in factors_by_key.values() for phrase in factors or () for f in phrase for literal in f
        }
        _SCANNER.add(self._literals | every)

    def find(self, text: str) -> set[Key]:
        found = set(self._always)
        present = _SCANNER.find(text)
        keys_by_literal = self._keys_by_literal
        for literal in present & self._literals:
            found.update(keys_by_literal[literal])
        for literal in present & self._phrase_literals:
            for key, others in self._phrases_by_literal[literal]:
                if key not in found and all(not option.isdisjoint(present) for option in others):
                    found.add(key)
        return found


_LITERAL = operator.itemgetter(1)  # of the automaton's (end, literal) pairs


class _LiteralScanner:
    """Which of the literals of every LiteralIndex a text contains, found in one pass.

    An Aho-Corasick automaton of every literal (pyahocorasick, in C) reads the text once and gives
    each literal it holds: the result is exactly the set of literals the text contains. (A trie of
    their first characters as one regular expression, tried at every position and then confirmed
    with `in`, took 22 us a message against 4.6 us; the automaton builds in milliseconds where that
    expression took 0.15 s to compile.)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._literals: set[str] = set()
        # The automaton of the literals (None: to be built; built once complete, then only read).
        self._automaton: ahocorasick.Automaton | None = None
        # The last text scanned and its literals (one tuple, so a thread reads it whole).
        self._last: tuple[object, str, frozenset[str]] | None = None

    def add(self, literals: Iterable[str]) -> None:
        with self._lock:
            if not self._literals.issuperset(literals):
                self._literals.update(literals)
                self._automaton = None

    def find(self, text: str) -> frozenset[str]:
        automaton = self._automaton
        if automaton is None:
            automaton = self._build()
        last = self._last
        if last is not None and last[0] is automaton and last[1] == text:
            return last[2]
        # An automaton of no literal is never made one (make_automaton): it finds nothing.
        ready = automaton.kind == ahocorasick.AHOCORASICK
        found = frozenset(map(_LITERAL, automaton.iter(text))) if ready else frozenset()
        self._last = (automaton, text, found)
        return found

    def _build(self) -> ahocorasick.Automaton:
        with self._lock:
            automaton = self._automaton
            if automaton is not None:
                return automaton
            automaton = ahocorasick.Automaton()
            for literal in sorted(self._literals):
                automaton.add_word(literal, literal)
            if self._literals:
                automaton.make_automaton()
            self._automaton = automaton
            return automaton


_SCANNER = _LiteralScanner()
