"""Training the learned second stage (`tandem risk train`): scikit-learn here, never at screening time.

Per language, from the labelled batches of tests/risk/labelled:
1. features of every message: runs of one to three words and of 2 to 6 characters across words, and
   the rules and frames that fired (service/risk/features.py), kept when seen in at least two
   messages; each counted as 1 + ln(count), valued at its smoothed inverse document frequency
   (idf = ln((1 + messages) / (1 + messages with it)) + 1), the words, the characters and the rules'
   features each scaled to unit length;
2. one logistic regression per level (at least low, at least moderate, high), class-balanced,
   liblinear solver (deterministic, seed 0); then only the KEPT_FEATURES features weighing most at any
   level are kept and the three are fitted again on them (the model stays small in memory and fast to
   read; measured leave-one-batch-out, it loses little: tests/risk/labelled/README.md);
3. cross-validated scores (by batch when there are 3 batches or more, else 5 stratified folds),
   scored exactly as at screening time (the whole text);
4. calibration: a Platt sigmoid per level fitted on those cross-validated scores;
5. thresholds, per level, on the same cross-validated probabilities: the lowest threshold at which
   the model adds at most a budget of false alarms to the rules' own (MAX_FALSE_ALARM: 6 % of the
   messages below low raised to low or above, 3 % below moderate raised to moderate or above, 3 %
   below high raised to high) — as many true cases found as that budget allows (the model read with
   the earlier features had 9, 5 and 4 %; with these, 6, 3 and 3 % find more at every level and raise
   fewer, and 3 % rather than 4 % for moderate keeps "thinking about unaliving myself" at low:
   tests/risk/labelled/README.md). Levels are a cascade:
   a level is given only when every lower level's threshold is cleared too, so each threshold is
   chosen among the messages the lower ones already raise (a text the model does not find at least
   low is never high: "Finir mes e-mails" is not raised high on one weak score).
   Texts without any warning-sign concept (the rule file's [model] gate) have thresholds of their
   own, chosen the same way on those texts alone, with a separate budget (OUTSIDE_FALSE_ALARM: 1 % of
   them below each level), and are read only from OUTSIDE_MIN_WORDS words: short ordinary answers
   ("Tomorrow at 6 pm, after work") are left alone, and reading them never moves the thresholds
   inside the gate (chosen first, as if the model did not read outside it). Texts whose risk words
   the rules' context cleared, with nothing else found, have thresholds of their own again, chosen on
   those texts alone (CLEARED_FALSE_ALARM: 5 % of them below each level): the context rules clear
   words, the model takes a second look at the whole text;
6. the final models, fitted on every message, written to learned/<lang>.json with the thresholds.
This module may import scikit-learn, numpy and scipy; no other module of service/risk does.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold

from service.risk.features import BLOCKS, block_of, ngram_features, rule_features, words_of
from service.risk.frames import FRAMEBOOKS
from service.risk.levels import RiskLevel
from service.risk.locales import primary_language
from service.risk.model import ARTIFACT_FORMAT, MODEL_LEVELS, LearnedModel, from_dict, weighted
from service.risk.normalize import normalize
from service.risk.rulebook import RULEBOOKS
from service.risk.text import evidence_in, how_read
from service.risk.version import LEARNED_DIR, RULES_DIR

SEED = 0
C = 8.0
MIN_DF = 2
KEPT_FEATURES = 50_000
MAX_FALSE_ALARM = (0.06, 0.03, 0.03)
OUTSIDE_FALSE_ALARM = (0.01, 0.01, 0.01)
OUTSIDE_MIN_WORDS = 11
CLEARED_FALSE_ALARM = (0.05, 0.05, 0.05)
DIGITS = 4


@dataclass(frozen=True, slots=True)
class Prepared:
    """One labelled message, ready for training and scoring: its feature sets and the rules' level."""

    level: RiskLevel
    group: str  # the batch it came from
    whole: tuple[str, ...]  # features of the whole text, with repeats
    rules_level: RiskLevel
    gated: bool = True  # the model may raise it (one of the rule file's [model] gate concepts is in it)
    outside: bool = False  # no gate concept, nothing cleared: read with the thresholds outside the gate
    cleared: bool = False  # the rules cleared its risk words and found nothing else: read with its own thresholds
    words: int = 0  # words of the normalised text


def prepare(text: str, lang: str, level: RiskLevel, group: str) -> Prepared:
    book = RULEBOOKS[lang]
    normalized = normalize(text, book.speller)
    framebook = FRAMEBOOKS.get(lang)
    present = framebook.presence(normalized.text) if framebook is not None else None
    notes: set[str] = set()
    evidence = evidence_in(book, normalized, present, notes)
    reading = how_read(framebook, present, evidence, notes)
    gated, outside, cleared = reading == "inside", reading == "outside", reading == "cleared"
    whole = (*ngram_features(normalized.text), *sorted(rule_features(evidence)))
    rules_level = max((item.level for item in evidence), default=RiskLevel.NONE)
    words = len(words_of(normalized.text))
    return Prepared(level, group, whole, rules_level, gated, outside, cleared, words)


@dataclass(frozen=True)
class Counted:
    """The messages' feature counts, every feature of every message (columns in name order), built once:
    each fold keeps its own columns and weighs them with sparse arithmetic, not message by message."""

    names: list[str]
    counts: sparse.csr_matrix  # message x feature: occurrences in the whole text
    blocks: np.ndarray  # per column, the block of the feature (service.risk.features.BLOCKS)


def count_features(rows: Sequence[Prepared]) -> Counted:
    names = sorted({feature for row in rows for feature in row.whole})
    column = {name: i for i, name in enumerate(names)}
    indptr, indices, values = [0], [], []
    for row in rows:
        counts: dict[int, int] = {}
        for feature in row.whole:
            index = column[feature]
            counts[index] = counts.get(index, 0) + 1
        for index in sorted(counts):
            indices.append(index)
            values.append(counts[index])
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.array(values, dtype=float), np.array(indices), np.array(indptr)), shape=(len(rows), len(names))
    )
    return Counted(names, matrix, np.array([block_of(name) for name in names]))


def _valued(counts: sparse.csr_matrix, idf: np.ndarray, blocks: np.ndarray) -> sparse.csr_matrix:
    """Each count taken as 1 + ln(count), times its column's idf; each block of a row scaled to unit
    length: exactly what `LearnedModel` computes at screening time."""
    x = counts.tocsr(copy=True)
    x.data = (1.0 + np.log(x.data)) * idf[x.indices]
    rows = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    squares = np.zeros((x.shape[0], len(BLOCKS)))
    np.add.at(squares, (rows, blocks[x.indices]), x.data**2)
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    x.data = x.data / norms[rows, blocks[x.indices]]
    return x


def _levels_fit(x: sparse.csr_matrix, levels: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """One class-balanced logistic regression per level: coefficients (features x levels), intercepts."""
    coefs, intercepts = [], []
    for level in MODEL_LEVELS:
        y = levels >= int(level)
        if y.all() or not y.any():
            coefs.append(np.zeros(x.shape[1]))
            intercepts.append(10.0 if y.all() else -10.0)
            continue
        model = LogisticRegression(
            C=C, class_weight="balanced", solver="liblinear", dual=True, random_state=SEED, max_iter=1000
        )
        model.fit(x, y)
        coefs.append(model.coef_[0])
        intercepts.append(float(model.intercept_[0]))
    return np.vstack(coefs).T, intercepts


def _fit(rows: Sequence[Prepared], counted: Counted, among: np.ndarray) -> tuple[dict[str, list[float]], list[float]]:
    """Raw (uncalibrated) weights of the three level models, each feature's followed by its idf, and
    their intercepts, fitted on the rows `among` (a fold, or all of them; `counted`: every row's
    counts): first on the features seen in at least MIN_DF of those messages, then again on the
    KEPT_FEATURES weighing most."""
    counts = counted.counts[among]
    levels = np.array([int(rows[i].level) for i in among])
    seen = np.asarray((counts > 0).sum(axis=0)).ravel()
    columns = np.flatnonzero(seen >= MIN_DF)
    # Smoothed inverse document frequency over these messages, rounded as stored.
    idf = np.round(np.log((1 + len(among)) / (1 + seen[columns])) + 1.0, DIGITS)

    def fitted(columns: np.ndarray, idf: np.ndarray) -> tuple[np.ndarray, list[float]]:
        return _levels_fit(_valued(counts[:, columns], idf, counted.blocks[columns]), levels)

    coefs, intercepts = fitted(columns, idf)
    if len(columns) > KEPT_FEATURES:
        strongest = np.abs(coefs).max(axis=1)
        # The heaviest first, ties broken by the feature's name: deterministic.
        kept = np.sort(np.lexsort((np.arange(len(strongest)), -strongest))[:KEPT_FEATURES])
        columns, idf = columns[kept], idf[kept]
        coefs, intercepts = fitted(columns, idf)
    stacked = np.column_stack([np.round(coefs, DIGITS), idf])
    names = [counted.names[i] for i in columns]
    # Every kept feature stays (even at weight 0): the scaling counts every known feature.
    weights = dict(zip(names, stacked.tolist(), strict=True))
    return weights, intercepts


def _raw_model(lang: str, weights: dict[str, list[float]], intercepts: Sequence[float]) -> LearnedModel:
    return LearnedModel(lang, weighted(weights), tuple(intercepts), ((1.0, 0.0),) * 3, (0.5, 0.5, 0.5), {})


def raw_scores(model: LearnedModel, row: Prepared) -> list[float]:
    """The raw score per level of the whole text, as at screening time."""
    return model.probabilities(row.whole)[1]


def _folds(rows: Sequence[Prepared], n_splits: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    groups = np.array([row.group for row in rows])
    levels = np.array([int(row.level) for row in rows])
    index = np.arange(len(rows))
    if len(set(groups)) >= 3:
        # Leave one batch out (n_splits = 0), or batches grouped into n_splits folds.
        count = len(set(groups))
        splitter = GroupKFold(n_splits=count if n_splits <= 0 else min(n_splits, count))
        return list(splitter.split(index, levels, groups))
    stratified = StratifiedKFold(n_splits=n_splits if n_splits > 0 else 5, shuffle=True, random_state=SEED)
    return list(stratified.split(index, levels))


def _platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if y.all() or not y.any():
        return 1.0, 0.0
    fit = LogisticRegression(C=1e4, solver="lbfgs", random_state=SEED).fit(scores.reshape(-1, 1), y)
    return float(fit.coef_[0][0]), float(fit.intercept_[0])


def _threshold(probs: np.ndarray, y: np.ndarray, ruled: np.ndarray, budget: float) -> float:
    """The lowest probability threshold at which the model adds at most `budget` false alarms (as a
    share of the messages below the level) to those the rules already raise."""
    negatives = ~y
    if not negatives.any():
        return 0.5
    spared = negatives & ~ruled  # messages the rules rightly leave below the level
    for threshold in sorted(set(np.round(probs, 4).tolist()) | {1.0}):
        added = ((probs >= threshold) & spared).sum()
        if added / negatives.sum() <= budget:
            return float(max(threshold, 0.05))
    return 1.0


def _cascade(
    probs: np.ndarray, levels: np.ndarray, ruled: np.ndarray, readable: np.ndarray, budgets: Sequence[float]
) -> tuple[list[float], np.ndarray]:
    """Thresholds per level for the messages in `readable` (the others count as negatives the model
    never raises), chosen level after level among the messages the lower levels already raise; and
    the level the model gives each message with them."""
    thresholds: list[float] = []
    given = np.zeros(len(levels), dtype=int)
    reached = readable.copy()
    for k, level in enumerate(MODEL_LEVELS):
        y = levels >= int(level)
        candidate = np.where(reached, probs[:, k], 0.0)
        threshold = round(_threshold(candidate, y, ruled >= int(level), budgets[k]), 4)
        thresholds.append(threshold)
        reached = reached & (probs[:, k] >= threshold)
        given = np.where(reached, int(level), given)
    return thresholds, given


def train_language(
    rows: Sequence[Prepared], lang: str, info: dict[str, Any] | None = None, folds: int = 0
) -> dict[str, Any]:
    """The artifact (a JSON-ready dict) of one language's model, trained on `rows`.

    `folds` is the number of cross-validation folds used for calibration and thresholds: 0 (the
    packaged model) leaves one batch out at a time; the nested evaluation uses 3 inside each of its
    folds, for time. The artifact's info keeps the out-of-fold figures per batch ("cross_validated":
    the rules raised by a model that never saw the batch; thresholds chosen on these same scores).
    """
    levels = np.array([int(row.level) for row in rows])
    ruled = np.array([int(row.rules_level) for row in rows])
    gated = np.array([row.gated for row in rows])
    outside = np.array([row.outside for row in rows])
    cleared = np.array([row.cleared for row in rows])
    long_enough = np.array([row.words >= OUTSIDE_MIN_WORDS for row in rows])
    oof = np.zeros((len(rows), 3))
    counted = count_features(rows)
    for train_index, test_index in _folds(rows, folds):
        fold_model = _raw_model(lang, *_fit(rows, counted, train_index))
        for i in test_index:
            oof[i] = raw_scores(fold_model, rows[i])
    calibration = []
    probs = np.zeros_like(oof)
    for k, level in enumerate(MODEL_LEVELS):
        slope, offset = _platt(oof[:, k], levels >= int(level))
        probs[:, k] = 1.0 / (1.0 + np.exp(-(slope * oof[:, k] + offset)))
        calibration.append([round(slope, 6), round(offset, 6)])
    # Inside the gate: chosen as if the model read nothing else (the other messages count as negatives
    # it never raises), so reading texts outside the gate cannot move these thresholds.
    thresholds, inside_levels = _cascade(probs, levels, ruled, gated, MAX_FALSE_ALARM)
    # Outside the gate: chosen on those texts alone, with their own budget.
    among = outside
    outside_thresholds, outside_levels = _cascade(
        probs[among], levels[among], ruled[among], long_enough[among], OUTSIDE_FALSE_ALARM
    )
    # Texts whose risk words the rules cleared: chosen on those texts alone, with their own budget.
    cleared_thresholds, cleared_levels = _cascade(
        probs[cleared], levels[cleared], ruled[cleared], np.ones(int(cleared.sum()), dtype=bool), CLEARED_FALSE_ALARM
    )
    screened = np.maximum(ruled, np.where(gated, inside_levels, 0))
    screened[among] = np.maximum(screened[among], outside_levels)
    screened[cleared] = np.maximum(screened[cleared], cleared_levels)
    cross_validated = _figures(rows, levels, screened)
    weights, intercepts = _fit(rows, counted, np.arange(len(rows)))
    return {
        "format": ARTIFACT_FORMAT,
        "lang": lang,
        "levels": [level.label for level in MODEL_LEVELS],
        "intercepts": [round(value, 6) for value in intercepts],
        "calibration": calibration,
        "thresholds": thresholds,
        "outside_thresholds": outside_thresholds,
        "outside_min_words": OUTSIDE_MIN_WORDS,
        "cleared_thresholds": cleared_thresholds,
        "info": {
            "messages": len(rows),
            "batches": sorted({row.group for row in rows}),
            "seed": SEED,
            "folds": folds,
            "c": C,
            "min_df": MIN_DF,
            "kept_features": KEPT_FEATURES,
            "max_false_alarm": list(MAX_FALSE_ALARM),
            "outside_false_alarm": list(OUTSIDE_FALSE_ALARM),
            "cleared_false_alarm": list(CLEARED_FALSE_ALARM),
            "features": len(weights),
            "cross_validated": cross_validated,
            **(info or {}),
        },
        "weights": weights,
    }


def _figures(rows: Sequence[Prepared], levels: np.ndarray, screened: np.ndarray) -> dict[str, Any]:
    """Out-of-fold sensitivity, specificity and high-risk recall, pooled and per batch."""

    def rates(mask: np.ndarray) -> dict[str, float | int | None]:
        want, got = levels[mask], screened[mask]

        def share(hits: np.ndarray) -> float | None:
            return round(float(hits.mean()), 4) if hits.size else None

        return {
            "n": int(mask.sum()),
            "sensitivity": share(got[want >= 1] >= 1),
            "specificity": share(got[want == 0] == 0),
            "high_risk_recall": share(got[want == 3] == 3),
        }

    groups = np.array([row.group for row in rows])
    return {
        "pooled": rates(np.ones(len(rows), dtype=bool)),
        "by_batch": {group: rates(groups == group) for group in sorted(set(groups.tolist()))},
        "how": "leave one batch out when there are 3 batches or more; thresholds chosen on these scores",
    }


def prepare_cases(cases: Sequence[Any]) -> dict[str, list[Prepared]]:
    """Labelled cases (service.risk.evaluation.LabelledCase) prepared, grouped by language."""
    grouped: dict[str, list[Prepared]] = {}
    for case in cases:
        if case.lang not in RULEBOOKS:
            continue
        batch = case.source.split(":")[0]
        grouped.setdefault(case.lang, []).append(prepare(case.text, case.lang, case.level, batch))
    return grouped


def source_fingerprint(labelled: Path, lang: str) -> str:
    """What a language's model is made from: its labelled batches, the rule files and the code that
    turns them into features and weights. A packaged model whose fingerprint differs is stale."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    files = sorted(path for path in labelled.glob("*.tsv") if primary_language(path.stem) == lang)
    files += sorted(RULES_DIR.glob("*.toml"))
    code = ("features.py", "training.py", "model.py", "_runs.c", "frames.py", "normalize.py")
    files += [here / name for name in code]
    for path in files:
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def train_models(
    cases: Sequence[Any], progress: Callable[[str], None] | None = None, labelled: Path | None = None
) -> dict[str, dict[str, Any]]:
    """One model per language, the languages side by side in processes of their own (each fit runs
    on one core; the results do not depend on how they were run)."""
    grouped = sorted(prepare_cases(cases).items())
    jobs = []
    for lang, rows in grouped:
        if progress:
            progress(f"{lang}: training on {len(rows)} messages")
        info = {"source": source_fingerprint(labelled, lang)} if labelled is not None and labelled.is_dir() else {}
        jobs.append((rows, lang, info))
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers < 2:
        return {lang: train_language(rows, lang, info) for rows, lang, info in jobs}
    # Spawned, not forked: the caller may hold threads (a server, a test runner) that a fork would copy.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = [pool.submit(train_language, rows, lang, info) for rows, lang, info in jobs]
        return {lang: future.result() for (_, lang, _), future in zip(jobs, done, strict=True)}


def write_models(artifacts: dict[str, dict[str, Any]], directory: Path = LEARNED_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for lang, artifact in artifacts.items():
        path = directory / f"{lang}.json"
        path.write_text(json.dumps(artifact, ensure_ascii=True, sort_keys=True, separators=(",", ":")) + "\n")
        written.append(path)
    return written


def model_from_rows(rows: Sequence[Prepared], lang: str) -> LearnedModel:
    return from_dict(train_language(rows, lang))


def screened_level(model: LearnedModel, row: Prepared) -> RiskLevel:
    """The final level of a prepared message: the rules' level, raised by the model if it says more."""
    level = row.rules_level
    cleared = False
    if row.gated:
        outside = False
    elif row.cleared and model.cleared_thresholds is not None:
        outside, cleared = False, True
    elif row.outside and model.outside_thresholds is not None and row.words >= model.outside_min_words:
        outside = True
    else:
        return level
    probs, _raw, _known = model.probabilities(row.whole)
    return max(level, model.level_of(probs, outside, cleared=cleared))
