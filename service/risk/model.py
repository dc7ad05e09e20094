"""The learned second stage at screening time: a linear model read from a JSON file, scored by lookups.

`tandem risk train` (service/risk/training.py) fits one logistic regression per level and language
with scikit-learn and exports its weights to `learned/<lang>.json` beside this file. Screening needs
no scikit-learn, only numpy's arithmetic. The model reads a text as its words joined by single spaces
(service/risk/features.py): its runs of one to three words and of 2 to 6 characters, across word
boundaries. Runs of words are looked up by name; every run of characters of the text is worked out
as one integer at once and the model's are found among them by binary search (numpy), then all are
counted and weighed as arrays, not one by one in Python. Each is counted as 1 + ln(occurrences),
valued at its inverse document frequency (idf: rare n-grams say more than common ones), and the words
and the characters are each scaled to unit length, as in training. The score of a level is its
intercept plus the weighted sum; it is turned into a probability by the calibration fitted on
cross-validated scores and compared with the level's threshold chosen by cross-validation.
The levels are read as a cascade: the model gives a level only when its scores of that level and of
every level below it clear their thresholds (a text the model does not find at least low is not high).

A text that holds no warning-sign concept (outside the rule file's [model] gate) is read too when it
has at least `outside_min_words` words, against thresholds of its own (`outside_thresholds`), chosen
by cross-validation for a separate, smaller false-alarm budget: reading those texts never moves the
thresholds inside the gate. A text whose risk words the rules' context cleared (a negation, someone
else, an idiom) and in which the rules found nothing else is read as well, against thresholds of its
own again (`cleared_thresholds`), chosen on those texts alone for a budget of 5 % false alarms: a
second look where the context cleared the words but the text says more ("je pense au suicide, pas
plus, pas de plan").

The model only ever raises a level (the final level is the higher of the rules' and the model's). Its
evidence is the n-grams that pushed the score of the level it gave up the most, with their weights.
A long text is scored whole: with these features, scoring runs of sentences as well and keeping the
highest did worse leave one batch out (tests/risk/labelled/README.md, "Words and characters across
words"), long notes included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from service.risk.features import (
    CHAR_SIZES,
    block_of,
    char_code,
    char_runs,
    model_text,
    words_of,
)
from service.risk.levels import Evidence, RiskLevel
from service.risk.version import LEARNED_DIR

# The compiled reader and scorer (service/risk/_runs.c), built when the package is installed. Where no
# C compiler was found, or the module was built from an older copy of _runs.c (install again), numpy
# reads the same, more slowly.
_READER_VERSION = 1  # _runs.c's READER_VERSION: what this file expects of it
try:
    from service.risk import _runs
except ImportError:
    _runs = None  # type: ignore[assignment]
if _runs is not None and getattr(_runs, "READER_VERSION", None) != _READER_VERSION:
    _runs = None  # type: ignore[assignment]

# Whether texts are read and scored by the compiled reader (service/risk/_runs.c) or by numpy alone.
COMPILED = _runs is not None

MODEL_LEVELS = (RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH)
# 4: runs of words and of characters across words, each kind scaled on its own, counts taken as 1 + ln(n).
# Earlier formats read other features: a model stored in one cannot be read by this code (train again).
ARTIFACT_FORMAT = 4
EVIDENCE_NGRAMS = 5
# The strongest n-grams of a text read for its evidence (then shown as the words they lie in).
_EVIDENCE_CANDIDATES = 40
# A feature at screening time: its weight per level times its idf, its idf, and its block (BLOCKS).
_Feature = tuple[float, float, float, float, int]
# Runs of words are numbered from here up, above every run of characters (service.risk.features.char_code).
WORD_CODES = 1 << (6 * max(CHAR_SIZES) + 1)
# How a feature found n times counts, per level's weight and for its squared length: 1 + ln(n), (1 + ln(n))².
_TF_ROWS = np.array([(tf, tf, tf, tf * tf) for tf in (1.0 + np.log(np.arange(1, 4097)))], dtype=np.float64)
_TF = np.ascontiguousarray(_TF_ROWS[:, 0])


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct numbers of `values`, in increasing order, and how many times each occurs."""
    values = np.sort(values)
    if not values.size:
        return values, np.zeros(0, dtype=np.int64)
    first = np.empty(values.size, dtype=bool)
    first[0] = True
    np.not_equal(values[1:], values[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return values[starts], np.diff(starts, append=values.size)


@dataclass(frozen=True, slots=True)
class _Read:
    """The features of one text: their indexes and how many times each occurs, runs of characters,
    then runs of words, then the rules' findings, each kind in increasing order; `sizes` says how
    many of each kind (the blocks, each scaled to unit length on its own)."""

    ids: np.ndarray
    counts: np.ndarray
    sizes: tuple[int, int, int]
    # Where each feature read from the text first occurs in the model text, when the compiled reader read it.
    firsts: bytes | None = None

    @property
    def from_text(self) -> int:
        """How many features were read from the text itself (runs of characters and of words)."""
        return self.sizes[0] + self.sizes[1]


@dataclass(frozen=True, slots=True)
class LearnedModel:
    lang: str
    # feature -> one weight per level (low, moderate, high), each times the feature's idf, its idf, its block
    weights: Mapping[str, _Feature]
    intercepts: Sequence[float]
    calibration: Sequence[Sequence[float]]  # per level: (slope, offset) of the Platt sigmoid
    thresholds: Sequence[float]  # per level: the calibrated probability from which the level is given
    info: Mapping[str, Any]
    outside_thresholds: Sequence[float] | None = None  # the same for texts outside the gate (None: not read)
    outside_min_words: int = 0  # texts outside the gate are read from this many words
    cleared_thresholds: Sequence[float] | None = None  # texts whose risk words the rules cleared (None: not read)
    # Every feature read from the text has a number: a run of characters its `char_code`, a run of
    # words one made of its words' places in `_vocabulary` (`_word_codes`), above every run of
    # characters. The features are kept in the order of their numbers (`_codes`, then one number above
    # all, so that every search lands on one), then the rules' findings: the feature at index
    # i < `_rule_start` has the number `_codes[i]`, and the first `_char_count` are runs of characters.
    # Per feature (a row of `_table`): its weight per level times its idf, then its idf squared.
    _names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    _index: dict[str, int] = field(init=False, compare=False, repr=False)
    _table: np.ndarray = field(init=False, compare=False, repr=False)
    _vocabulary: dict[str, int] = field(init=False, compare=False, repr=False)
    _codes: np.ndarray = field(init=False, compare=False, repr=False)
    _hashed: bytes = field(init=False, compare=False, repr=False)  # `_codes` as the compiled reader's table
    _lengths: np.ndarray = field(init=False, compare=False, repr=False)  # each feature's length in characters
    _char_count: int = field(init=False, compare=False, repr=False)
    _rule_start: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        read = [name for name, row in self.weights.items() if row[4] < 2]
        vocabulary: dict[str, int] = {}
        for name in read:
            if name.startswith("w:"):
                for word in name[2:].split(" "):
                    vocabulary.setdefault(word, len(vocabulary))
        base = len(vocabulary) + 1
        if WORD_CODES + base + base**2 + base**3 >= 2**63:
            raise ValueError(f"learned model {self.lang}: {len(vocabulary)} words are too many to number runs of three")
        object.__setattr__(self, "_vocabulary", vocabulary)
        coded = sorted((self._code(name), name) for name in read)
        names = (*(name for _, name in coded), *(name for name, row in self.weights.items() if row[4] == 2))
        table = np.array([self.weights[name][:4] for name in names], dtype=np.float64).reshape(len(names), 4)
        table[:, 3] *= table[:, 3]
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_index", {name: index for index, name in enumerate(names)})
        object.__setattr__(self, "_lengths", np.array([max(len(name) - 2, 1) for name in names], dtype=np.int64))
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_codes", np.array([*(code for code, _ in coded), np.iinfo(np.int64).max]))
        object.__setattr__(self, "_hashed", _runs.table(self._codes[:-1]) if _runs is not None else b"")
        object.__setattr__(self, "_char_count", sum(1 for name in read if name.startswith("c:")))
        object.__setattr__(self, "_rule_start", len(read))

    def _code(self, name: str) -> int:
        """The number of a feature read from the text (a run of characters or of words)."""
        if name.startswith("c:"):
            return char_code(name[2:])
        places = np.array([self._vocabulary[word] for word in name[2:].split(" ")], dtype=np.int64)
        return int(self._word_codes(places)[-1])

    def _word_codes(self, places: np.ndarray) -> np.ndarray:
        """The numbers of every run of one, two and three words of a text given as its words' places in
        the vocabulary (a word no feature holds has the place after the last, so that no run holding it
        has a feature's number), runs of three words last."""
        base = len(self._vocabulary) + 1
        pairs = places[:-1] * base + places[1:]
        triples = pairs[:-1] * base + places[2:]
        # Runs of one, two and three words take base, base² and base³ numbers, one range after the other.
        return np.concatenate(
            (places + WORD_CODES, pairs + (WORD_CODES + base), triples + (WORD_CODES + base + base**2))
        )

    def probabilities(self, features: Iterable[str]) -> tuple[list[float], list[float], list[str]]:
        """Calibrated probability per level, raw scores, and the known features (with repeats), of a
        text given as its features (service.risk.features.ngram_features): training scores this way."""
        index = self._index
        positions: list[int] = []
        known: list[str] = []
        for feature in features:
            position = index.get(feature)
            if position is not None:
                positions.append(position)
                known.append(feature)
        ids, counts = _distinct(np.array(positions, dtype=np.int64))
        chars, rules = (int(np.searchsorted(ids, bound)) for bound in (self._char_count, self._rule_start))
        probs, raw = self._calibrated(self._raw(_Read(ids, counts, (chars, rules - chars, ids.size - rules))))
        return probs, raw, known

    def text_probabilities(self, normalized: str, found: Iterable[str] = ()) -> list[float]:
        """The same probabilities as `probabilities([*ngram_features(normalized), *found])`, every
        n-gram of the text looked up at once (`found`: service.risk.features.rule_features of the rules'
        evidence)."""
        return self._calibrated(self._raw(self._read(normalized, found)))[0]

    def _read(self, normalized: str, found: Iterable[str] = ()) -> _Read:
        """The features of a normalised text (service.risk.features: runs of characters and of words)
        and their occurrences; the rules' features `found` once each."""
        firsts = None
        if _runs is not None:  # the compiled reader reads the model text of `normalized` as model_text does
            found_ids, found_counts, firsts = _runs.read(normalized, self._vocabulary, self._hashed, WORD_CODES)
            ids, counts = np.frombuffer(found_ids, dtype=np.int64), np.frombuffer(found_counts, dtype=np.int64)
        else:
            ids, counts = self._runs_of(model_text(normalized))
        chars = int(np.searchsorted(ids, self._char_count))
        read = ids.size
        index, start = self._index, self._rule_start
        rules = sorted({position for feature in found if (position := index.get(feature, -1)) >= start})
        if rules:
            ids = np.concatenate((ids, rules))
            counts = np.concatenate((counts, np.ones(len(rules), dtype=np.int64)))
        return _Read(ids, counts, (chars, read - chars, len(rules)), firsts)

    def _runs_of(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The indexes of the model's runs of characters and of words that a model text holds, in
        increasing order, and how many times each: numpy's reading, which the compiled reader
        (service/risk/_runs.c) reproduces in one pass (tests/risk/test_model.py compares them)."""
        words = text.split()
        vocabulary = self._vocabulary
        places = np.fromiter(map(vocabulary.get, words, repeat(len(vocabulary))), dtype=np.int64, count=len(words))
        codes = np.concatenate((char_runs(text), self._word_codes(places)))
        # Every run of the text once, with its count, in increasing order (as the model's numbers).
        values, repeats = _distinct(codes)
        at = np.searchsorted(self._codes, values)
        hit = self._codes[at] == values
        return at[hit], repeats[hit]

    def _valued(self, read: _Read, upto: int) -> np.ndarray:
        """Per feature among the first `upto`: its weight per level times its idf times 1 + ln(count),
        then its idf times 1 + ln(count), squared."""
        counts = read.counts[:upto]
        if counts.size and counts.max() > len(_TF_ROWS):  # a run repeated thousands of times
            tf = 1.0 + np.log(counts)
            factors = np.column_stack((tf, tf, tf, tf * tf))
        else:
            factors = _TF_ROWS[counts - 1]
        return self._table[read.ids[:upto]] * factors

    @staticmethod
    def _sums(rows: np.ndarray, sizes: Sequence[int]) -> tuple[np.ndarray, list[int]]:
        """Each non-empty block's sums (per level, and its squared length), added up in the features'
        order (so both ways of scoring agree to the last bit), and those blocks' sizes."""
        kept = [size for size in sizes if size]
        starts = [0]
        for size in kept[:-1]:
            starts.append(starts[-1] + size)
        return np.add.reduceat(rows, starts, axis=0), kept

    def _raw(self, read: _Read) -> list[float]:
        """Raw score per level: the intercept plus each block's sums scaled to the block's unit length."""
        if not read.ids.size:
            return [float(value) for value in self.intercepts]
        if _runs is not None:  # the same arithmetic, compiled; training scores this way too
            added = _runs.score(read.ids, read.counts, read.sizes, self._table, _TF)
        else:
            sums, _kept = self._sums(self._valued(read, read.ids.size), read.sizes)
            added = (sums[:, :3] / np.sqrt(sums[:, 3:])).sum(axis=0).tolist()
        return [intercept + value for intercept, value in zip(self.intercepts, added, strict=True)]

    def _calibrated(self, raw: Sequence[float]) -> tuple[list[float], list[float]]:
        probs = [_sigmoid(slope * value + offset) for value, (slope, offset) in zip(raw, self.calibration, strict=True)]
        return probs, list(raw)

    def level_of(
        self, probs: Sequence[float], outside: bool = False, cascade: bool = True, cleared: bool = False
    ) -> RiskLevel:
        """The highest level whose probability, and every lower level's, clears its threshold; without
        `cascade` (a sign among others in a conversation), the highest level whose own probability does.
        `outside`: a text outside the gate; `cleared`: one whose risk words the rules cleared."""
        thresholds = self.cleared_thresholds if cleared else self.outside_thresholds if outside else self.thresholds
        level = RiskLevel.NONE
        if thresholds is None:
            return level
        for k in range(3):
            if probs[k] >= thresholds[k]:
                level = MODEL_LEVELS[k]
            elif cascade:
                break
        return level

    def reads_outside(self, normalized: str) -> bool:
        """Whether a text outside the gate is long enough for the model to read it."""
        return self.outside_thresholds is not None and len(words_of(normalized)) >= self.outside_min_words

    def screen(
        self,
        normalized: str,
        found: Iterable[str] = (),
        explain_above: RiskLevel = RiskLevel.NONE,
        outside: bool = False,
        cascade: bool = True,
        cleared: bool = False,
    ) -> tuple[RiskLevel, list[float], list[Evidence]]:
        """The model's level for a normalised text (`found`: the rules' features of their evidence), its
        probabilities, and its evidence (worked out only when the model's level is above `explain_above`:
        the level the rules already gave).
        `outside`: the text holds no gate concept, and the outside thresholds apply; `cleared`: the rules
        cleared its risk words, and the thresholds for such texts apply."""
        read = self._read(normalized, found)
        probs = self._calibrated(self._raw(read))[0]
        level = self.level_of(probs, outside, cascade, cleared)
        if level <= explain_above:
            return level, probs, []
        return level, probs, self._evidence(level, read, normalized)

    def _evidence(self, level: RiskLevel, read: _Read, normalized: str) -> list[Evidence]:
        """The words of a text whose n-grams pushed the score of `level` up the most, with how much
        (weight times count, scaled as in the score). A run of characters is shown as the whole words
        it lies in ("l my" in "kill myself" as "kill myself"), and what pushed the same words among
        the strongest n-grams is added up; the rules' own features are not repeated (the rules'
        evidence already names them)."""
        if not read.from_text:
            return []
        k = MODEL_LEVELS.index(level)
        name = f"model.{self.lang}"
        if _runs is not None and read.firsts is not None:  # the same words and sums, compiled
            spans = _runs.evidence(
                normalized, read.ids, read.counts, read.firsts, read.sizes, self._table, _TF, self._lengths,
                k, _EVIDENCE_CANDIDATES, EVIDENCE_NGRAMS,
            )  # fmt: skip
            return [Evidence(name, "model", f"{words} (+{value:.2f})", level) for words, value in spans]
        text = model_text(normalized)
        find, before, names = text.find, text.rfind, self._names
        pushed: dict[str, float] = {}
        for value, position in self._strongest(read, k):
            # The whole words holding the n-gram's first occurrence: from the space at or before its
            # start to the space at or after its end (a model text is words between single spaces).
            feature = names[position]
            string = f" {feature[2:]} " if feature[0] == "w" else feature[2:]
            start = find(string)
            words = text[before(" ", 0, start + 1) + 1 : find(" ", start + len(string) - 1)]
            pushed[words] = pushed.get(words, 0.0) + value
        top = sorted(((value, words) for words, value in pushed.items()), reverse=True)[:EVIDENCE_NGRAMS]
        return [Evidence(name, "model", f"{words} (+{value:.2f})", level) for value, words in top if value > 0]

    def _strongest(self, read: _Read, k: int) -> list[tuple[float, int]]:
        """The n-grams of the text (not the rules' features) that pushed the score of level `k` up the
        most (at most _EVIDENCE_CANDIDATES, strongest first): how much, and which feature (numpy)."""
        rows = self._valued(read, read.from_text)
        sums, kept = self._sums(rows, read.sizes[:2])
        values = rows[:, k] * np.repeat(1.0 / np.sqrt(sums[:, 3]), kept)
        strongest = np.argsort(-values, kind="stable")[:_EVIDENCE_CANDIDATES]
        strongest = strongest[values[strongest] > 0]
        return list(zip(values[strongest].tolist(), read.ids[strongest].tolist(), strict=True))


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def weighted(weights: Mapping[str, Sequence[float]]) -> dict[str, _Feature]:
    """The stored weights (per feature: one per level, then its idf) as screening reads them: each
    level's weight times the idf, then the idf and the feature's block."""
    table: dict[str, _Feature] = {}
    for key, (low, moderate, high, idf) in weights.items():
        factor = float(idf)
        name = str(key)
        table[name] = (float(low) * factor, float(moderate) * factor, float(high) * factor, factor, block_of(name))
    return table


def from_dict(data: Mapping[str, Any]) -> LearnedModel:
    if data.get("format") != ARTIFACT_FORMAT:
        raise ValueError(
            f"learned model format {data.get('format')!r} is not {ARTIFACT_FORMAT}: it reads other features; "
            "train it again (tandem risk train)"
        )
    return LearnedModel(
        lang=str(data["lang"]),
        weights=weighted(data["weights"]),
        intercepts=tuple(float(x) for x in data["intercepts"]),
        calibration=tuple((float(a), float(b)) for a, b in data["calibration"]),
        thresholds=tuple(float(x) for x in data["thresholds"]),
        info=dict(data.get("info", {})),
        outside_thresholds=(
            tuple(float(x) for x in data["outside_thresholds"]) if data.get("outside_thresholds") is not None else None
        ),
        outside_min_words=int(data.get("outside_min_words", 0)),
        cleared_thresholds=(
            tuple(float(x) for x in data["cleared_thresholds"]) if data.get("cleared_thresholds") is not None else None
        ),
    )


def load_models(directory: Path = LEARNED_DIR) -> dict[str, LearnedModel]:
    """Every `<lang>.json` in `directory`; a missing folder means no learned stage (rules only)."""
    models: dict[str, LearnedModel] = {}
    for path in sorted(directory.glob("*.json")):
        models[path.stem] = from_dict(json.loads(path.read_text(encoding="utf-8")))
    return models
