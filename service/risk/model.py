"""The learned second stage at screening time: a linear model read from a JSON file, scored by lookups.

`tandem risk train` (service/risk/training.py) fits one logistic regression per level and language
with scikit-learn and exports its weights to `learned/<lang>.json` beside this file. Screening needs
no scikit-learn: the score of a text is its intercept plus the weights of the n-grams it contains,
each occurrence valued at the n-gram's inverse document frequency (idf: rare n-grams say more than
common ones) and the whole scaled to unit length by the square root of the occurrences' idf squared,
as in training; the score is turned into a probability by the calibration fitted on cross-validated
scores, and compared with the level's threshold chosen by cross-validation.
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
A long text is scored whole and chunk by chunk (runs of sentences), and the highest score counts.
"""

from __future__ import annotations

import collections
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.risk.features import chunks, rule_features, word_features, words_of
from service.risk.levels import Evidence, RiskLevel
from service.risk.version import LEARNED_DIR

MODEL_LEVELS = (RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH)
ARTIFACT_FORMAT = 3  # 3: each feature's weights followed by its idf
EVIDENCE_NGRAMS = 5
_WORD_CACHE = 50_000  # words whose contribution is remembered (per language); cleared when full
# A word's memoised score: sums of its known features' weights per level, the sum of their idf squared
# (their share of the text's length), and per level the features among them whose weight is positive
# (the evidence).
_WordScore = tuple[float, float, float, float, tuple[tuple[str, ...], ...]]


@dataclass(frozen=True, slots=True)
class LearnedModel:
    lang: str
    # feature -> one weight per level (low, moderate, high), each times the feature's idf, then its idf squared
    weights: Mapping[str, Sequence[float]]
    intercepts: Sequence[float]
    calibration: Sequence[Sequence[float]]  # per level: (slope, offset) of the Platt sigmoid
    thresholds: Sequence[float]  # per level: the calibrated probability from which the level is given
    info: Mapping[str, Any]
    outside_thresholds: Sequence[float] | None = None  # the same for texts outside the gate (None: not read)
    outside_min_words: int = 0  # texts outside the gate are read from this many words
    cleared_thresholds: Sequence[float] | None = None  # texts whose risk words the rules cleared (None: not read)
    # word -> its _WordScore; filled as words are met, cleared when full.
    _word_cache: dict[str, _WordScore] = field(default_factory=dict, compare=False, repr=False)
    # The known pairs of words, by first word then second: a pair is looked up without building its
    # feature name, and a pair whose first word starts no known pair is skipped at once.
    _pair_weights: dict[str, dict[str, Sequence[float]]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        pairs: dict[str, dict[str, Sequence[float]]] = {}
        for key, weight in self.weights.items():
            if key.startswith("b:"):
                left, _, right = key[2:].partition(" ")
                pairs.setdefault(left, {})[right] = weight
        object.__setattr__(self, "_pair_weights", pairs)

    def probabilities(self, features: Iterable[str]) -> tuple[list[float], list[float], list[str]]:
        """Calibrated probability per level, raw scores, and the known features (with repeats)."""
        get = self.weights.get
        totals = [0.0, 0.0, 0.0]
        length = 0.0
        known: list[str] = []
        for feature in features:
            weight = get(feature)
            if weight is not None:
                known.append(feature)
                totals[0] += weight[0]
                totals[1] += weight[1]
                totals[2] += weight[2]
                length += weight[3]
        probs, raw = self._calibrated(totals, length)
        return probs, raw, known

    def _calibrated(self, totals: Sequence[float], length: float) -> tuple[list[float], list[float]]:
        """`length`: the sum of the known occurrences' idf squared (the text's squared length)."""
        scale = 1.0 / math.sqrt(length) if length > 0 else 0.0
        raw = [self.intercepts[k] + totals[k] * scale for k in range(3)]
        probs = [_sigmoid(slope * value + offset) for value, (slope, offset) in zip(raw, self.calibration, strict=True)]
        return probs, raw

    def fast_probabilities(self, text: str, extra: Iterable[str]) -> list[float]:
        """The same probabilities as `probabilities(ngram_features(text) + extra)`, with each word's
        contribution memoised (most words of a message were seen before)."""
        words = words_of(text)
        return self._word_probabilities(words, self._word_scores(words), extra)

    def _word_scores(self, words: Sequence[str]) -> list[_WordScore]:
        cache = self._word_cache
        return [cache.get(word) or self._word_score(word) for word in words]

    def _word_probabilities(
        self, words: Sequence[str], scores: Sequence[_WordScore], extra: Iterable[str]
    ) -> list[float]:
        """`fast_probabilities` of a text whose words and their memoised scores are known."""
        if scores:
            # The same sums, in the same order, as adding score by score from 0.0: one pass in C per column.
            s0, s1, s2, lengths, _pushing = zip(*scores, strict=True)
            t0, t1, t2, length = 0.0 + sum(s0), 0.0 + sum(s1), 0.0 + sum(s2), 0.0 + sum(lengths)
        else:
            t0 = t1 = t2 = length = 0.0
        pairs = self._pair_weights
        for left, right in itertools.pairwise(words):
            following = pairs.get(left)
            if following is not None:
                weight = following.get(right)
                if weight is not None:
                    t0 += weight[0]
                    t1 += weight[1]
                    t2 += weight[2]
                    length += weight[3]
        get = self.weights.get
        for feature in extra:
            weight = get(feature)
            if weight is not None:
                t0 += weight[0]
                t1 += weight[1]
                t2 += weight[2]
                length += weight[3]
        return self._calibrated((t0, t1, t2), length)[0]

    def _word_score(self, word: str) -> _WordScore:
        get = self.weights.get
        s0 = s1 = s2 = length = 0.0
        found: list[tuple[str, Sequence[float]]] = []
        for feature in word_features(word):
            weight = get(feature)
            if weight is not None:
                s0 += weight[0]
                s1 += weight[1]
                s2 += weight[2]
                length += weight[3]
                found.append((feature, weight))
        pushing = tuple(tuple(feature for feature, weight in found if weight[k] > 0) for k in range(3))
        cache = self._word_cache
        if len(cache) >= _WORD_CACHE:
            cache.clear()
        score = cache[word] = (s0, s1, s2, length, pushing)
        return score

    def _pairs(self, words: Sequence[str]) -> list[str]:
        """The word-pair features of these words that may be known (the others cannot be)."""
        starts = self._pair_weights
        return [f"b:{left} {right}" for left, right in itertools.pairwise(words) if left in starts]

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
        evidence: Sequence[Evidence],
        concepts: Iterable[str] = (),
        explain_above: RiskLevel = RiskLevel.NONE,
        outside: bool = False,
        cascade: bool = True,
        cleared: bool = False,
    ) -> tuple[RiskLevel, list[float], list[Evidence]]:
        """The model's level for a normalised text, its best probabilities, and its evidence (worked
        out only when the model's level is above `explain_above`: the level the rules already gave).
        Each level's probability is the highest over the whole text and its chunks, as in training;
        `outside`: the text holds no gate concept, and the outside thresholds apply; `cleared`: the rules
        cleared its risk words, and the thresholds for such texts apply."""
        from_rules = sorted(rule_features(evidence, concepts))
        parts = chunks(normalized)
        words = words_of(normalized)
        scores = self._word_scores(words)
        scored = [(self._word_probabilities(words, scores, from_rules), (words, scores))]
        if len(parts) > 1:
            # The chunks' words are the text's, in order (sentences are cut only where no word is):
            # each chunk is scored from its slice of the memoised word scores, not looked up again.
            start = 0
            for part in parts:
                end = start + len(words_of(part))
                piece = (words[start:end], scores[start:end])
                scored.append((self._word_probabilities(*piece, from_rules), piece))
                start = end
        best_probs = [max(probs[k] for probs, _ in scored) for k in range(3)]
        best_level = self.level_of(best_probs, outside, cascade, cleared)
        if best_level <= explain_above:
            return best_level, best_probs, []
        k = MODEL_LEVELS.index(best_level)
        best_words, best_scores = max(scored, key=lambda pair: pair[0][k])[1]
        return best_level, best_probs, self._evidence(best_level, best_words, best_scores, from_rules)

    def _evidence(
        self, level: RiskLevel, words: Sequence[str], scores: Sequence[_WordScore], extra: Sequence[str]
    ) -> list[Evidence]:
        """The n-grams of a text's words (and the `extra` features) that pushed the score of `level` up
        the most (weight times count, scaled), read from the words' memoised scores."""
        k = MODEL_LEVELS.index(level)
        pushing: list[str] = []  # the features that push the score up, with repeats
        length = 0.0  # every known occurrence's idf squared (the scaling of the score)
        for score in scores:
            length += score[3]
            pushing.extend(score[4][k])
        get = self.weights.get
        for feature in (*self._pairs(words), *extra):
            known = get(feature)
            if known is not None:
                length += known[3]
                if known[k] > 0:
                    pushing.append(feature)
        counts = collections.Counter(pushing)
        scale = 1.0 / math.sqrt(length) if length > 0 else 0.0
        weights = self.weights
        # The highest (value, feature) pairs (the same as heapq.nlargest, faster on a few hundred).
        pushed = sorted([(weights[f][k] * n * scale, f) for f, n in counts.items()], reverse=True)[:EVIDENCE_NGRAMS]
        top = [(value, feature) for value, feature in pushed if value > 0]
        return [
            Evidence(f"model.{self.lang}", "model", f"{_display(feature)} (+{value:.2f})", level)
            for value, feature in top
        ]


def _display(feature: str) -> str:
    kind, _, body = feature.partition(":")
    if kind == "c":
        return f"…{body.strip()}…" if body.strip() == body else body.strip()
    return body


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def weighted(weights: Mapping[str, Sequence[float]]) -> dict[str, tuple[float, ...]]:
    """The stored weights (per feature: one per level, then its idf) as screening reads them: each
    level's weight times the idf, then the idf squared."""
    table: dict[str, tuple[float, ...]] = {}
    for key, (low, moderate, high, idf) in weights.items():
        factor = float(idf)
        table[str(key)] = (float(low) * factor, float(moderate) * factor, float(high) * factor, factor * factor)
    return table


def from_dict(data: Mapping[str, Any]) -> LearnedModel:
    # Format 2 valued every feature at 1 (plain counts): the same as format 3 with an idf of 1 for each.
    if data.get("format") not in (2, ARTIFACT_FORMAT):
        raise ValueError(f"learned model format {data.get('format')!r} is not {ARTIFACT_FORMAT}")
    stored = data["weights"]
    if data["format"] == 2:
        stored = {key: (*value, 1.0) for key, value in stored.items()}
    return LearnedModel(
        lang=str(data["lang"]),
        weights=weighted(stored),
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
