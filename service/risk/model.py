"""The learned second stage at screening time: a linear model read from a JSON file, scored by lookups.

`tandem risk train` (service/risk/training.py) fits one logistic regression per level and language
with scikit-learn and exports its weights to `learned/<lang>.json` beside this file. Screening needs
no scikit-learn. The model reads a text as its words joined by single spaces (service/risk/features.py):
its runs of one to three words and of 2 to 6 characters, across word boundaries. Every kept n-gram of
a text is found in one pass of an Aho-Corasick automaton; each is counted as 1 + ln(occurrences),
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

import heapq
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.risk.features import BLOCKS, block_of, model_text, pattern_of, words_of
from service.risk.levels import Evidence, RiskLevel
from service.risk.patterns import Occurrences
from service.risk.version import LEARNED_DIR

MODEL_LEVELS = (RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH)
# 4: runs of words and of characters across words, each kind scaled on its own, counts taken as 1 + ln(n).
# Earlier formats read other features: a model stored in one cannot be read by this code (train again).
ARTIFACT_FORMAT = 4
EVIDENCE_NGRAMS = 5
# 1 + ln(n): how a feature found n times counts (the first few worked out once).
_TF = [0.0, *(1.0 + math.log(n) for n in range(1, 256))]
# The strongest n-grams of a text read for its evidence (then shown as the words they lie in).
_EVIDENCE_CANDIDATES = 40
# A feature at screening time: its weight per level times its idf, its idf, and its block (BLOCKS).
_Feature = tuple[float, float, float, float, int]


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
    # The features in order, their index by name, per feature its weight per level times its idf and
    # its idf squared (one list each: summed in C with map), its block, and one automaton per kind of
    # n-gram read from the text (a word with a space on each side is also a run of characters: " kill "
    # is both `w:kill` and `c: kill `, found by each automaton).
    _names: tuple[str, ...] = field(init=False, compare=False, repr=False)
    _index: dict[str, int] = field(init=False, compare=False, repr=False)
    _columns: tuple[list[float], ...] = field(init=False, compare=False, repr=False)
    _blocks: list[int] = field(init=False, compare=False, repr=False)
    _readers: tuple[Occurrences, ...] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = tuple(self.weights)
        rows = [self.weights[name] for name in names]
        blocks = [row[4] for row in rows]
        columns = (*([row[k] for row in rows] for k in range(len(MODEL_LEVELS))), [row[3] * row[3] for row in rows])
        readers = tuple(
            Occurrences({pattern_of(name): index for index, name in enumerate(names) if blocks[index] == block})
            for block in range(2)
        )
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_index", {name: index for index, name in enumerate(names)})
        object.__setattr__(self, "_columns", columns)
        object.__setattr__(self, "_blocks", blocks)
        object.__setattr__(self, "_readers", readers)

    def probabilities(self, features: Iterable[str]) -> tuple[list[float], list[float], list[str]]:
        """Calibrated probability per level, raw scores, and the known features (with repeats), of a
        text given as its features (service.risk.features.ngram_features): training scores this way."""
        index, blocks = self._index, self._blocks
        counts: tuple[dict[int, int], ...] = tuple({} for _ in BLOCKS)
        known: list[str] = []
        for feature in features:
            position = index.get(feature)
            if position is not None:
                block = counts[blocks[position]]
                block[position] = block.get(position, 0) + 1
                known.append(feature)
        probs, raw = self._calibrated(self._raw(counts))
        return probs, raw, known

    def text_probabilities(self, normalized: str, found: Iterable[str] = ()) -> list[float]:
        """The same probabilities as `probabilities([*ngram_features(normalized), *found])`, the n-grams
        found in one pass (`found`: service.risk.features.rule_features of the rules' evidence)."""
        return self._calibrated(self._raw(self._counts(normalized, found)))[0]

    def _counts(self, normalized: str, found: Iterable[str] = ()) -> tuple[Mapping[int, int], ...]:
        """Per block, feature -> its occurrences in a normalised text; the rules' features `found` once each."""
        text = model_text(normalized)
        index, blocks = self._index, self._blocks
        rules: dict[int, int] = {}
        for feature in found:
            position = index.get(feature)
            if position is not None and blocks[position] == 2:
                rules[position] = 1
        return (*(reader.count(text) for reader in self._readers), rules)

    def _block(self, counts: Mapping[int, int]) -> tuple[list[float], float]:
        """One block's sums per level and its squared length: each feature counted as 1 + ln(n) and
        valued at its idf, summed in the features' order (both ways of scoring agree to the last bit)."""
        positions = sorted(counts)
        *levels, squares = self._columns
        sums = [sum(map(column.__getitem__, positions)) for column in levels]
        square = sum(map(squares.__getitem__, positions))
        # Most n-grams occur once: only repeats need their count's logarithm, added after, in order.
        for position in [position for position in positions if counts[position] > 1]:
            tf = _TF[counts[position]] if counts[position] < len(_TF) else 1.0 + math.log(counts[position])
            square += (tf * tf - 1.0) * squares[position]
            for k, column in enumerate(levels):
                sums[k] += (tf - 1.0) * column[position]
        return sums, square

    def _raw(self, counts: Sequence[Mapping[int, int]]) -> list[float]:
        """Raw score per level: the intercept plus each block's sums scaled to the block's unit length."""
        added = [0.0] * len(MODEL_LEVELS)
        for block in counts:
            if block:
                sums, square = self._block(block)
                scale = 1.0 / math.sqrt(square) if square > 0 else 0.0
                added = [value + total * scale for value, total in zip(added, sums, strict=True)]
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
        counts = self._counts(normalized, found)
        probs = self._calibrated(self._raw(counts))[0]
        level = self.level_of(probs, outside, cascade, cleared)
        if level <= explain_above:
            return level, probs, []
        return level, probs, self._evidence(level, counts, normalized)

    def _evidence(self, level: RiskLevel, counts: Sequence[Mapping[int, int]], normalized: str) -> list[Evidence]:
        """The words of a text whose n-grams pushed the score of `level` up the most, with how much
        (weight times count, scaled as in the score). A run of characters is shown as the whole words
        it lies in ("l my" in "kill myself" as "kill myself"), and what pushed the same words among
        the strongest n-grams is added up; the rules' own features are not repeated (the rules'
        evidence already names them)."""
        k = MODEL_LEVELS.index(level)
        column = self._columns[k]
        pushing: list[tuple[float, int]] = []
        for block in counts[:2]:  # words and characters: read from the text
            if not block:
                continue
            _sums, square = self._block(block)
            scale = 1.0 / math.sqrt(square) if square > 0 else 0.0
            for position, n in block.items():
                weight = column[position]
                if weight > 0:
                    pushing.append(((1.0 if n == 1 else 1.0 + math.log(n)) * weight * scale, position))
        text = model_text(normalized)
        pushed: dict[str, float] = {}
        for value, position in heapq.nlargest(_EVIDENCE_CANDIDATES, pushing):
            words = _words_around(self._names[position], text)
            pushed[words] = pushed.get(words, 0.0) + value
        top = sorted(((value, words) for words, value in pushed.items()), reverse=True)[:EVIDENCE_NGRAMS]
        name = f"model.{self.lang}"
        return [Evidence(name, "model", f"{words} (+{value:.2f})", level) for value, words in top if value > 0]


def _words_around(feature: str, text: str) -> str:
    """The whole words of `text` (a model text: words between single spaces) holding the feature's
    first occurrence."""
    string = pattern_of(feature)
    start = text.find(string)
    if start < 0:  # not in this text (cannot happen for a feature counted in it)
        return string.strip()
    left = text.rfind(" ", 0, start + 1) if text[start] != " " else start
    right = text.find(" ", start + len(string) - 1) if string[-1] != " " else start + len(string) - 1
    return text[left + 1 : right if right >= 0 else len(text)].strip()


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
