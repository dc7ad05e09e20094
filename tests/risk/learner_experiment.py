"""Learner families, leave-one-batch-out: does a stronger learner lift the learned stage's figures?

Not a test (pytest does not collect it): an experiment to rerun by hand, as reported in
tests/risk/labelled/README.md ("Learner families, leave-one-batch-out").

    .venv/bin/python -m tests.risk.learner_experiment                 # every variant, en and fr
    .venv/bin/python -m tests.risk.learner_experiment --variants base,nbsvm --langs en

Every variant changes only how the out-of-fold raw scores (one per level: at least low, at least
moderate, high) are made, leaving one batch out at a time exactly as `tandem risk train` does. The
scores then go through the same tail as training.train_language: Platt calibration on the pooled
out-of-fold scores, cascade thresholds inside the gate (9/5/4 %) and outside it (1 %, from 11
words), the rules' level raised by the model. Printed per language: pooled sensitivity /
specificity / high-risk recall (the model's info.cross_validated) and the pooled out-of-fold ranking
AUC per level (all messages, level or above against below). `base` must reproduce the figures of
the packaged model's info.cross_validated.

Reads tests/risk/labelled only (never tests/risk/untouched). Prepared messages are cached in
/tmp/tandem-learner-experiment.pkl (delete it when the rules or the corpus change).
"""

from __future__ import annotations

import argparse
import itertools
import math
import pickle
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from service.risk import training
from service.risk.evaluation import load_labelled
from service.risk.features import chunks, rule_features, words_of
from service.risk.frames import FRAMEBOOKS
from service.risk.model import MODEL_LEVELS
from service.risk.normalize import normalize
from service.risk.rulebook import RULEBOOKS
from service.risk.text import evidence_in

LABELLED = Path(__file__).parent / "labelled"
CACHE = Path("/tmp/tandem-learner-experiment.pkl")


@dataclass(frozen=True, slots=True)
class Item:
    row: training.Prepared
    text: str  # normalised
    pieces: tuple[str, ...]  # chunks when there are several, else empty
    concepts: frozenset[str]
    rules: frozenset[str]  # r:/k:/l: features


def prepare_items() -> dict[str, list[Item]]:
    if CACHE.exists():  # stored as plain tuples: Item may live in __main__
        stored = pickle.loads(CACHE.read_bytes())  # noqa: S301 (written by this script, above)
        return {lang: [Item(*fields) for fields in items] for lang, items in stored.items()}
    grouped: dict[str, list[Item]] = {}
    for case in load_labelled(LABELLED):
        if case.lang not in RULEBOOKS:
            continue
        batch = case.source.split(":")[0]
        row = training.prepare(case.text, case.lang, case.level, batch)
        book = RULEBOOKS[case.lang]
        normalized = normalize(case.text, book.speller)
        framebook = FRAMEBOOKS.get(case.lang)
        present = framebook.presence(normalized.text) if framebook is not None else None
        concepts = (
            frozenset(name for name in framebook.concepts if name in present) if framebook and present else frozenset()
        )
        evidence = evidence_in(book, normalized, present, set())
        pieces = chunks(normalized.text)
        grouped.setdefault(case.lang, []).append(
            Item(
                row,
                normalized.text,
                tuple(pieces) if len(pieces) > 1 else (),
                concepts,
                frozenset(rule_features(evidence)),
            )
        )
    plain = {lang: [(i.row, i.text, i.pieces, i.concepts, i.rules) for i in items] for lang, items in grouped.items()}
    CACHE.write_bytes(pickle.dumps(plain))
    return grouped


# ---------------------------------------------------------------- the tail shared by every variant


def figures(items: Sequence[Item], oof: np.ndarray) -> dict[str, float]:
    """What train_language makes of out-of-fold raw scores: pooled figures and AUCs."""
    rows = [item.row for item in items]
    levels = np.array([int(row.level) for row in rows])
    ruled = np.array([int(row.rules_level) for row in rows])
    gated = np.array([row.gated for row in rows])
    outside = np.array([row.outside for row in rows])
    long_enough = np.array([row.words >= training.OUTSIDE_MIN_WORDS for row in rows])
    probs = np.zeros_like(oof)
    for k, level in enumerate(MODEL_LEVELS):
        slope, offset = training._platt(oof[:, k], levels >= int(level))
        probs[:, k] = 1.0 / (1.0 + np.exp(-(slope * oof[:, k] + offset)))
    _t, inside_levels = training._cascade(probs, levels, ruled, gated, training.MAX_FALSE_ALARM)
    _o, outside_levels = training._cascade(
        probs[outside], levels[outside], ruled[outside], long_enough[outside], training.OUTSIDE_FALSE_ALARM
    )
    screened = np.maximum(ruled, np.where(gated, inside_levels, 0))
    screened[outside] = np.maximum(screened[outside], outside_levels)
    pooled = training._figures(rows, levels, screened)["pooled"]
    result = {
        "sens": pooled["sensitivity"],
        "spec": pooled["specificity"],
        "high": pooled["high_risk_recall"],
    }
    for k, level in enumerate(MODEL_LEVELS):
        result[f"auc_{level.label}"] = round(float(roc_auc_score(levels >= int(level), oof[:, k])), 4)
    return result


def lobo(items: Sequence[Item], fit_score: Callable[[list[Item], list[Item]], np.ndarray]) -> np.ndarray:
    rows = [item.row for item in items]
    oof = np.zeros((len(items), 3))
    for train_index, test_index in training._folds(rows, 0):
        oof[test_index] = fit_score([items[i] for i in train_index], [items[i] for i in test_index])
    return oof


# ---------------------------------------------------------------- features of one message


def docs_base(item: Item) -> list[tuple[str, ...]]:
    return [item.row.whole, *item.row.parts]


def _keep(prefixes: tuple[str, ...]) -> Callable[[Item], list[tuple[str, ...]]]:
    def docs(item: Item) -> list[tuple[str, ...]]:
        return [tuple(f for f in doc if f.startswith(prefixes)) for doc in docs_base(item)]

    return docs


# A few texting forms written out, for the char_wb variant (experiment only; normalisation is not ours).
_TEXTING = {
    "en": {
        "u": "you",
        "ur": "your",
        "r": "are",
        "im": "i m",
        "ive": "i ve",
        "idk": "i dont know",
        "rn": "right now",
        "cuz": "because",
        "bc": "because",
        "gonna": "going to",
        "wanna": "want to",
        "tmrw": "tomorrow",
        "tmr": "tomorrow",
        "2nite": "tonight",
        "tn": "tonight",
        "ppl": "people",
        "nvm": "never mind",
        "w": "with",
        "abt": "about",
        "bout": "about",
        "tho": "though",
        "thx": "thanks",
        "pls": "please",
        "plz": "please",
        "yall": "you all",
        "ill": "i ll",
    },
    "fr": {
        "jsp": "je sais pas",
        "jpp": "j en peux plus",
        "chui": "je suis",
        "jsuis": "je suis",
        "chuis": "je suis",
        "jveux": "je veux",
        "jvais": "je vais",
        "jme": "je me",
        "jai": "j ai",
        "pk": "pourquoi",
        "pq": "pourquoi",
        "pcq": "parce que",
        "tjrs": "toujours",
        "tjs": "toujours",
        "bcp": "beaucoup",
        "ptet": "peut etre",
        "ptetre": "peut etre",
        "mm": "meme",
        "ct": "c etait",
        "cmt": "comment",
        "qd": "quand",
        "qqn": "quelqu un",
        "qqch": "quelque chose",
        "dla": "de la",
        "jte": "je te",
        "t": "tu es",
        "g": "j ai",
        "c": "c est",
        "ke": "que",
        "koi": "quoi",
        "auj": "aujourd hui",
        "ajd": "aujourd hui",
        "stp": "s il te plait",
        "svp": "s il vous plait",
    },
}


def texting(text: str, lang: str) -> str:
    table = _TEXTING.get(lang, {})
    return re.sub(r"[a-z0-9]+", lambda m: table.get(m.group(), m.group()), text)


def _charwb(text: str, sizes: Sequence[int]) -> list[str]:
    words = words_of(text)
    found: list[str] = []
    for word in words:
        padded = f" {word} "
        grams = {"w:" + word}
        for n in sizes:
            grams.update("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
        found.extend(sorted(grams))
    found.extend(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    return found


def docs_charwb(lang: str, sizes: Sequence[int]) -> Callable[[Item], list[tuple[str, ...]]]:
    def docs(item: Item) -> list[tuple[str, ...]]:
        rules = tuple(sorted(item.rules))
        texts = [item.text, *item.pieces]
        return [(*_charwb(texting(text, lang), sizes), *rules) for text in texts]

    return docs


# ---------------------------------------------------------------- linear learners


def _rows(docs: Sequence[tuple[str, ...]]) -> list[training.Prepared]:
    return [training.Prepared(training.RiskLevel.NONE, "", doc, (), training.RiskLevel.NONE) for doc in docs]


def _matrix(docs: Sequence[tuple[str, ...]], vocab: dict[str, int], idf: Sequence[float]) -> sparse.csr_matrix:
    return training._matrix(_rows(docs), vocab, idf)


def _logistic(c: float = training.C, class_weight: str | None = "balanced") -> LogisticRegression:
    return LogisticRegression(
        C=c, class_weight=class_weight, solver="liblinear", dual=True, random_state=training.SEED, max_iter=1000
    )


Fitter = Callable[[sparse.csr_matrix, np.ndarray, np.ndarray, int], Callable[[sparse.csr_matrix], np.ndarray]]


def fit_logistic(c: float = training.C, class_weight: str | None = "balanced", weigh: str = "") -> Fitter:
    def fit(x: sparse.csr_matrix, levels: np.ndarray, groups: np.ndarray, k: int) -> Callable:
        y = levels >= int(MODEL_LEVELS[k])
        weight = None
        if weigh == "by_level":  # positives further above the level count more (balanced on top)
            weight = np.where(y, 1.0 + 0.5 * (levels - int(MODEL_LEVELS[k])), 1.0)
        elif weigh == "by_batch":  # every batch the same total weight
            names, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
            weight = (len(groups) / len(names)) / counts[inverse]
        model = _logistic(c, class_weight).fit(x, y, sample_weight=weight)
        return model.decision_function

    return fit


def fit_nbsvm(c: float = training.C, alpha: float = 1.0) -> Fitter:
    """Log-count ratios (Wang & Manning 2012) scaling the features, then the same logistic regression.
    At run time the ratio folds into the weights (w_i * r_i): the artefact is read as today."""

    def fit(x: sparse.csr_matrix, levels: np.ndarray, groups: np.ndarray, k: int) -> Callable:
        y = levels >= int(MODEL_LEVELS[k])
        binary = (x > 0).astype(np.float64)
        p = alpha + np.asarray(binary[y].sum(axis=0)).ravel()
        q = alpha + np.asarray(binary[~y].sum(axis=0)).ravel()
        r = np.log((p / p.sum()) / (q / q.sum()))
        model = _logistic(c).fit(x.multiply(r).tocsr(), y)
        folded = model.coef_[0] * r
        intercept = float(model.intercept_[0])
        return lambda z: z @ folded + intercept

    return fit


def fit_sgd(alpha: float = 1e-5) -> Fitter:
    def fit(x: sparse.csr_matrix, levels: np.ndarray, groups: np.ndarray, k: int) -> Callable:
        y = levels >= int(MODEL_LEVELS[k])
        model = SGDClassifier(
            loss="modified_huber",
            alpha=alpha,
            class_weight="balanced",
            max_iter=50,
            tol=None,
            average=True,
            random_state=training.SEED,
        ).fit(x, y)
        return model.decision_function

    return fit


def linear(docs_of: Callable[[Item], list[tuple[str, ...]]], fitter: Fitter, max_df: float = 1.0) -> Callable:
    """fit_score for a linear model over `docs_of` features; a message's score is the highest over
    its whole text and its chunks, as at screening time."""

    def fit_score(train: list[Item], test: list[Item]) -> np.ndarray:
        whole = [docs_of(item)[0] for item in train]
        vocab = training.vocabulary_of(whole, max_df)
        idf = training.idf_of(_rows(whole), vocab)
        x = _matrix(whole, vocab, idf)
        levels = np.array([int(item.row.level) for item in train])
        groups = np.array([item.row.group for item in train])
        scorers = [fitter(x, levels, groups, k) for k in range(3)]
        owner, test_docs = [], []
        for i, item in enumerate(test):
            for doc in docs_of(item):
                owner.append(i)
                test_docs.append(doc)
        z = _matrix(test_docs, vocab, idf)
        scores = np.column_stack([np.asarray(s(z)).ravel() for s in scorers])
        best = np.full((len(test), 3), -np.inf)
        np.maximum.at(best, np.array(owner), scores)
        return best

    return fit_score


def base_exact(train: list[Item], test: list[Item], lang: str) -> np.ndarray:
    """The packaged learner itself (training._fit and training.raw_scores)."""
    model = training._raw_model("", *training._fit([item.row for item in train], lang))
    return np.array([training.raw_scores(model, item.row) for item in test])


# ---------------------------------------------------------------- ensemble and stacking


def _platt_probs(oof: np.ndarray, items: Sequence[Item]) -> np.ndarray:
    levels = np.array([int(item.row.level) for item in items])
    probs = np.zeros_like(oof)
    for k, level in enumerate(MODEL_LEVELS):
        slope, offset = training._platt(oof[:, k], levels >= int(level))
        probs[:, k] = 1.0 / (1.0 + np.exp(-(slope * oof[:, k] + offset)))
    return probs


def ensemble(items: list[Item]) -> np.ndarray:
    """Average of the calibrated probabilities of a word model (w:, b:, rules) and a character model
    (c:, rules), each calibrated on its own pooled out-of-fold scores; returned as log-odds."""
    word = lobo(items, linear(_keep(("w:", "b:", "r:", "k:", "l:")), fit_logistic()))
    char = lobo(items, linear(_keep(("c:", "r:", "k:", "l:")), fit_logistic()))
    mean = np.clip((_platt_probs(word, items) + _platt_probs(char, items)) / 2, 1e-9, 1 - 1e-9)
    return np.log(mean / (1 - mean))


def _dense(items: Sequence[Item], linear_scores: np.ndarray, names: list[str]) -> np.ndarray:
    columns = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(items), len(names) + 8))
    for i, item in enumerate(items):
        for name in (*item.concepts, *item.rules):
            j = columns.get(name)
            if j is not None:
                x[i, j] = 1.0
    base = len(names)
    x[:, base : base + 3] = linear_scores
    x[:, base + 3] = [int(item.row.rules_level) for item in items]
    x[:, base + 4] = [item.row.gated for item in items]
    x[:, base + 5] = [item.row.outside for item in items]
    x[:, base + 6] = [math.log1p(item.row.words) for item in items]
    x[:, base + 7] = [len(item.pieces) for item in items]
    return x


def stacking(lang: str, inner_folds: int = 5, max_iter: int = 100, depth: int = 3) -> Callable:
    """A small gradient-boosted model per level over the concepts present, the rules and frames that
    fired, the rules' level, gate, length, and the linear model's out-of-fold scores (inner folds by
    batch inside each outer fold, so no score was made by a model that saw its own message)."""

    def fit_score(train: list[Item], test: list[Item]) -> np.ndarray:
        groups = np.array([item.row.group for item in train])
        inner = np.zeros((len(train), 3))
        splitter = GroupKFold(n_splits=min(inner_folds, len(set(groups))))
        for a, b in splitter.split(np.arange(len(train)), groups=groups):
            inner[b] = base_exact([train[i] for i in a], [train[i] for i in b], lang)
        outer = base_exact(train, test, lang)
        seen: dict[str, int] = {}
        for item in train:
            for name in (*item.concepts, *item.rules):
                seen[name] = seen.get(name, 0) + 1
        names = sorted(name for name, n in seen.items() if n >= 5)
        x_train, x_test = _dense(train, inner, names), _dense(test, outer, names)
        levels = np.array([int(item.row.level) for item in train])
        result = np.zeros((len(test), 3))
        for k, level in enumerate(MODEL_LEVELS):
            model = HistGradientBoostingClassifier(
                max_iter=max_iter,
                max_depth=depth,
                learning_rate=0.1,
                early_stopping=False,
                class_weight="balanced",
                random_state=training.SEED,
            ).fit(x_train, levels >= int(level))
            result[:, k] = model.decision_function(x_test)
        return result

    return fit_score


# ---------------------------------------------------------------- the variants


def variants(lang: str) -> dict[str, Callable[[list[Item]], np.ndarray]]:
    def per_fold(fit_score: Callable) -> Callable[[list[Item]], np.ndarray]:
        return lambda items: lobo(items, fit_score)

    return {
        "base": per_fold(lambda train, test: base_exact(train, test, lang)),
        "base_generic": per_fold(linear(docs_base, fit_logistic())),
        "nbsvm": per_fold(linear(docs_base, fit_nbsvm())),
        "nbsvm_c1": per_fold(linear(docs_base, fit_nbsvm(c=1.0))),
        "nbsvm_c16": per_fold(linear(docs_base, fit_nbsvm(c=16.0))),
        "logistic_c16": per_fold(linear(docs_base, fit_logistic(c=16.0))),
        "charwb_texting_45": per_fold(linear(docs_charwb(lang, (4, 5)), fit_logistic())),
        "charwb_texting_25": per_fold(linear(docs_charwb(lang, (2, 3, 4, 5)), fit_logistic())),
        "ensemble_word_char": ensemble,
        "unweighted": per_fold(linear(docs_base, fit_logistic(class_weight=None))),
        "weights_by_level": per_fold(linear(docs_base, fit_logistic(weigh="by_level"))),
        "weights_by_batch": per_fold(linear(docs_base, fit_logistic(weigh="by_batch"))),
        "sgd_modified_huber": per_fold(linear(docs_base, fit_sgd())),
        "sgd_modified_huber_1e-4": per_fold(linear(docs_base, fit_sgd(alpha=1e-4))),
        "stacking_hgb": per_fold(stacking(lang)),
        # n-grams in more than this share of the training messages dropped (training.MAX_DF).
        "max_df_05": per_fold(linear(docs_base, fit_logistic(), max_df=0.05)),
        "max_df_10": per_fold(linear(docs_base, fit_logistic(), max_df=0.10)),
        "max_df_20": per_fold(linear(docs_base, fit_logistic(), max_df=0.20)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="")
    parser.add_argument("--langs", default="en,fr")
    args = parser.parse_args()
    grouped = prepare_items()
    wanted = [name for name in args.variants.split(",") if name]
    for lang in args.langs.split(","):
        items = grouped[lang]
        table = variants(lang)
        for name in wanted or list(table):
            run = table[name]
            start = time.perf_counter()
            oof = run(items)
            got = figures(items, oof)
            seconds = time.perf_counter() - start
            print(
                f"{lang} {name:26s} {got['sens']:.3f} / {got['spec']:.3f} / {got['high']:.3f}   "
                f"AUC {got['auc_low']:.4f} {got['auc_moderate']:.4f} {got['auc_high']:.4f}   ({seconds:.0f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
