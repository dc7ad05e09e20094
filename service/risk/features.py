"""The features the learned second stage reads: word and character n-grams of the normalised text.

The same function feeds training (service/risk/training.py, with scikit-learn) and screening
(service/risk/model.py, which looks them all up at once as arrays: `char_runs`), so the two can
never disagree on what a feature is. The model reads a text as its words joined by single spaces, with
a space at each end (`model_text`: " i want to go "); its features are strings with a prefix telling
their kind:

- `w:` + one to three neighbouring words (`w:kill`, `w:want to`, `w:i want to`);
- `c:` + 2 to 6 characters of that text, across word boundaries (`c:e to`, `c: kil`, `c:ll my`),
  which survive typos, missing accents and endings ("pilules", "pillules") and read short phrases.
- `r:rule-id`, `k:category`, `l:level`: the rules and frames that fired, so the model weighs what the
  first stage found (without them, the model raised "I want to kill myself" past what it says).

Each kind is its own block: a text's counts are taken as 1 + ln(count), valued at the feature's
inverse document frequency, and scaled to unit length within the block (training.py). Measured leave
one batch out against the earlier features (words, word pairs, 4- and 5-character pieces of single
words and the rules that fired, one block): tests/risk/labelled/README.md, "Words and characters
across words".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from service.risk.levels import Evidence

_WORD = re.compile(r"[a-z0-9]+")
WORD_SIZES = (1, 2, 3)
CHAR_SIZES = (2, 3, 4, 5, 6)
# The kinds of feature, each scaled to unit length on its own: words, characters, what the rules found.
BLOCKS = ("w", "c", "r")


def words_of(text: str) -> list[str]:
    return _WORD.findall(text)


def model_text(text: str) -> str:
    """What the model reads of an already normalised text: its words joined by single spaces, with a
    space at each end (so a word's first and last characters are read as such)."""
    return " " + " ".join(_WORD.findall(text)) + " "


def ngram_features(text: str) -> list[str]:
    """Every feature of an already normalised text, with repeats (a feature counts once per place it
    occurs): its words and runs of two and three words, then every run of 2 to 6 characters of
    `model_text(text)`."""
    padded = model_text(text)
    words = padded.split()
    found: list[str] = []
    for n in WORD_SIZES:
        found.extend("w:" + " ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    size = len(padded)
    for n in CHAR_SIZES:
        found.extend("c:" + padded[i : i + n] for i in range(size - n + 1))
    return found


# A model text holds only these characters (`model_text`); each is numbered from 1 in 6 bits, so a run
# of up to 10 of them is one integer, different for every run (its length included): every run of
# characters of a text is then worked out at once (`char_runs`) and looked up among the model's by
# binary search, instead of cutting and hashing hundreds of little strings.
_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789"
_SYMBOL = np.zeros(128, dtype=np.int64)
_SYMBOL[[ord(char) for char in _ALPHABET]] = np.arange(1, len(_ALPHABET) + 1)
_BITS = 6
assert len(_ALPHABET) < 2**_BITS and max(CHAR_SIZES) * _BITS < 63


def char_code(run: str) -> int:
    """The number of a run of characters of a model text (`c:` features without their prefix)."""
    code = 0
    for char in run:
        code = code << _BITS | int(_SYMBOL[ord(char)])
    return code


def char_runs(text: str) -> np.ndarray:
    """The codes (`char_code`) of every run of CHAR_SIZES characters of a model text, with repeats."""
    symbols = _SYMBOL[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    runs: list[np.ndarray] = []
    code = symbols
    for size in range(1, max(CHAR_SIZES) + 1):
        if size > 1:
            code = (code[:-1] << _BITS) | symbols[size - 1 :]
        if size in CHAR_SIZES:
            runs.append(code)
    return np.concatenate(runs)


def block_of(feature: str) -> int:
    """0 for runs of words, 1 for runs of characters, 2 for what the rules found (`r:`, `k:`, `l:`)."""
    kind = feature.partition(":")[0]
    return BLOCKS.index(kind) if kind in BLOCKS[:2] else 2


def rule_features(evidence: Iterable[Evidence], concepts: Iterable[str] = ()) -> set[str]:
    """Features from what the first stage found: rules and frames that fired, concepts present."""
    found: set[str] = {"n:" + name for name in concepts}
    for item in evidence:
        found.add("r:" + item.rule)
        found.add("k:" + item.category)
        found.add("l:" + item.level.label)
    return found
