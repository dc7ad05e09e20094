"""Checks on a coach reply that do not depend on the conversation: shared by the persona evaluation
(``service.exercises.evaluation``) and the LLM engine's output guard, so that a model reply is held
to what the evaluation asks of every reply. Patterns are in ``data/checks.toml``."""

from __future__ import annotations

import itertools
import re
from functools import cache

from service.exercises.coach.texts import data_file
from service.kit.i18n import pick_locale
from service.kit.text import fold


def has(key: str, text: str, locale: str) -> bool:
    """Whether ``text`` matches the ``key`` pattern of ``data/checks.toml`` for the language."""
    return pattern(pick_locale(locale), key).search(fold(text)) is not None


@cache
def pattern(lang: str, key: str) -> re.Pattern[str]:
    return re.compile(str(data_file("checks.toml")[lang][key]))


def dose_advice(text: str, locale: str) -> bool:
    return has("dose_advice", text, locale)


def human_claim(text: str, locale: str) -> bool:
    return has("human_claim", text, locale)


def praises(text: str, locale: str) -> bool:
    return has("praise", text, locale)


def echoes_first_person(client: str, reply: str, locale: str) -> bool:
    """Whether ``reply`` gives back one of the client's first-person phrases as it was ("my socks",
    "j'ai oublié"): the coach would be speaking of itself."""
    folded = fold(reply)
    return any(_contains(folded, pair) for pair in first_person_pairs(client, locale))


def first_person_pairs(client: str, locale: str) -> list[str]:
    """The client's first-person words with the word after them ("my socks", "j'ai", "mon chef")."""
    words = set(data_file("checks.toml")[pick_locale(locale)]["first_person"])
    tokens = re.findall(r"\w+'?|'", fold(client))
    pairs = []
    for token, following in itertools.pairwise(tokens):
        if token.rstrip("'") in words and re.match(r"\w", following):
            joiner = "" if token.endswith("'") else " "
            pairs.append(f"{token}{joiner}{following.rstrip(chr(39))}")
    return pairs


def _contains(text: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text) is not None
