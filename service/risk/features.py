"""The features the learned second stage reads: word and character n-grams plus what the rules found.

The same function feeds training (service/risk/training.py, with scikit-learn) and screening
(service/risk/model.py, plain dictionary lookups), so the two can never disagree on what a feature is.
Features are strings with a short prefix telling their kind:

- `w:word` and `b:word word`: words and pairs of neighbouring words of the normalised text;
- `c:` + 3 to 5 characters of one word, padded with a space at each end (`c: kil`, `c:ill `), which
  survives typos, missing accents and endings ("pilules", "pillules");
- `r:rule-id`, `k:category`, `l:level`: the rules and frames that fired, so the model can weigh them.
  (Concept presence alone was tried as a feature: it did not improve cross-validation and cost time.)
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable

from service.risk.levels import Evidence

_WORD = re.compile(r"[a-z0-9]+")
# Sentences end on these; a chunk for the model is a run of whole sentences of at most this many words.
_SENTENCE = re.compile(r"[^.!?;\n]+")
CHUNK_WORDS = 40
CHAR_SIZES = (4, 5)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


@functools.lru_cache(maxsize=65536)
def word_features(word: str) -> tuple[str, ...]:
    """The features one word brings: itself and its character n-grams (each once)."""
    padded = f" {word} "
    size = len(padded)
    found = {"w:" + word}
    for n in CHAR_SIZES:
        found.update("c:" + padded[i : i + n] for i in range(size - n + 1))
    return tuple(sorted(found))


def ngram_features(text: str) -> list[str]:
    """Word, word-pair and character n-gram features of an already normalised text, with repeats.

    A feature counts once per word that brings it (a word's own n-grams are counted once), so the
    score of a text is the sum of its words' scores plus its word pairs': the model memoises words.
    """
    words = _WORD.findall(text)
    found: list[str] = []
    for word in words:
        found.extend(word_features(word))
    found.extend(f"b:{left} {right}" for left, right in itertools.pairwise(words))
    return found


def rule_features(evidence: Iterable[Evidence], concepts: Iterable[str] = ()) -> set[str]:
    """Features from what the first stage found: rules and frames that fired, concepts present."""
    found: set[str] = {"n:" + name for name in concepts}
    for item in evidence:
        found.add("r:" + item.rule)
        found.add("k:" + item.category)
        found.add("l:" + item.level.label)
    return found


def chunks(text: str) -> list[str]:
    """The text cut into runs of whole sentences of at most CHUNK_WORDS words (one chunk if short).

    A long note is scored chunk by chunk as well as whole, so one alarming sentence among many
    ordinary ones is not drowned out.
    """
    pieces = [match.group() for match in _SENTENCE.finditer(text)]
    result: list[str] = []
    current: list[str] = []
    count = 0
    for piece in pieces:
        size = len(_WORD.findall(piece))
        if current and count + size > CHUNK_WORDS:
            result.append(". ".join(current))
            current, count = [], 0
        current.append(piece)
        count += size
    if current:
        result.append(". ".join(current))
    return result or [text]
