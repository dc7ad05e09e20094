"""Thinking traps (cognitive distortions) noticed in an automatic thought, from phrase lists in
``data/traps.toml``. The coach names a likely trap gently and offers its Socratic question; it is a
prompt for reflection, not a judgement, so a missed trap costs little and a neutral thought must
not be labelled."""

from __future__ import annotations

import dataclasses
import re
from functools import cache

from service.exercises.answers import phrase_pattern
from service.exercises.catalog import Localized
from service.exercises.coach.texts import data_file
from service.kit.i18n import SUPPORTED_LOCALES as LOCALES
from service.kit.text import fold


@dataclasses.dataclass(frozen=True)
class ThinkingTrap:
    code: str
    name: Localized
    explanation: Localized
    question: Localized
    phrases: tuple[str, ...]  # folded, in every language


def thinking_traps() -> tuple[ThinkingTrap, ...]:
    return _traps()


def detect_traps(thought: str, locale: str, *, min_words: int = 1) -> list[ThinkingTrap]:
    """The traps a thought suggests, the most specific first (the one with the longest matching
    phrase); phrases of every language are tried, since clients mix languages. ``min_words`` leaves
    out phrases shorter than that ("always" alone in a balanced thought is no trap)."""
    text = _normalize(thought)
    found: list[tuple[int, int, ThinkingTrap]] = []
    for order, trap in enumerate(_traps()):
        phrases = [p for p in trap.phrases if len(p.split()) >= min_words]
        longest = max((len(p) for p in phrases if phrase_pattern(p).search(text)), default=0)
        if longest:
            found.append((-longest, order, trap))
    return [trap for *_, trap in sorted(found, key=lambda item: item[:2])]


@cache
def _traps() -> tuple[ThinkingTrap, ...]:
    raw = data_file("traps.toml")["traps"]
    return tuple(
        ThinkingTrap(
            code=t["code"],
            name=Localized(**t["name"]),
            explanation=Localized(**t["explanation"]),
            question=Localized(**t["question"]),
            phrases=tuple(dict.fromkeys(_normalize(p) for lang in LOCALES for p in t["phrases"][lang])),
        )
        for t in raw
    )


@cache
def _contractions() -> tuple[re.Pattern[str], dict[str, str]]:
    table = {
        fold(long): fold(short)
        for lang in LOCALES
        for long, short in data_file("traps.toml")["contractions"].get(lang, {}).items()
    }
    alternatives = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)"), table


def _normalize(text: str) -> str:
    pattern, table = _contractions()
    return pattern.sub(lambda match: table[match.group(0)], fold(text))
