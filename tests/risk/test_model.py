"""The learned second stage: trained from the corpus in the repository, deterministic, only ever raising a
level, explained by its n-grams, and measured by leaving one batch out against the targets of issue 10."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.risk import ENGINE_VERSION, RiskLevel, screen_text
from service.risk.evaluation import (
    CONVERSATION_TARGETS,
    CV_TARGETS,
    load_conversations,
    load_labelled,
    rates,
    shortfalls,
)
from service.risk.frames import FRAMEBOOKS
from service.risk.model import MODEL_LEVELS, load_models
from service.risk.normalize import normalize
from service.risk.rulebook import RULEBOOKS
from service.risk.text import MODELS, screen_rules
from service.risk.version import LEARNED_DIR, model_fingerprint

LABELLED = Path(__file__).parent / "labelled"


def packaged(lang):
    return json.loads((LEARNED_DIR / f"{lang}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_packaged_model_was_trained_on_the_corpus_rules_and_code_as_they_are(lang):
    from service.risk.training import source_fingerprint

    assert packaged(lang)["info"]["source"] == source_fingerprint(LABELLED, lang), "stale: run tandem risk train"
    batches = sorted(path.name for path in LABELLED.glob(f"{lang}*.tsv"))
    assert packaged(lang)["info"]["batches"] == batches


def test_training_is_deterministic():
    from service.risk.training import prepare_cases, train_language

    cases = [case for case in load_labelled(LABELLED) if case.lang == "en"][::12]
    rows = prepare_cases(cases)["en"]
    first, second = train_language(rows, "en"), train_language(rows, "en")
    assert first == second
    assert first["info"]["seed"] == 0


# The issue-10 targets are not met yet by leave-one-batch-out (2026-12-02, 18 batches per language:
# en 0.889 / 0.900 / 0.821, fr 0.916 / 0.891 / 0.863 for sensitivity / specificity / high-risk
# recall). Whole conversations meet theirs (high-risk recall en 0.934, fr 0.920 since 2026-12-02).
# These tests stay as the target: strict, so the day the screen meets one it passes and its marker
# must go. The floors below catch any regression meanwhile.
TARGETS_NOT_MET = pytest.mark.xfail(
    strict=True, reason="issue 10 targets not met yet; see tests/risk/labelled/README.md"
)

# What leave-one-batch-out measured, rounded down: a change that makes the screen worse on the
# corpus fails here. Floors only go up.
CV_FLOORS = {
    "en": {"sensitivity": 0.88, "specificity": 0.89, "high_risk_recall": 0.82},
    "fr": {"sensitivity": 0.91, "specificity": 0.89, "high_risk_recall": 0.86},
}
CONVERSATION_FLOORS = {"en": {"high_risk_recall": 0.93}, "fr": {"high_risk_recall": 0.91}}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_cross_validated_by_batch_the_screen_does_not_fall_below_what_it_reached(lang):
    pooled = packaged(lang)["info"]["cross_validated"]["pooled"]
    assert shortfalls(pooled, CV_FLOORS[lang]) == [], (lang, pooled)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_whole_conversations_do_not_fall_below_what_they_reached(lang):
    from service.risk.conversation import screen_conversation

    conversations = [c for c in load_conversations(LABELLED / "conversations") if c.lang == lang]
    pairs = [(c.level, screen_conversation(list(c.messages), c.lang).level) for c in conversations]
    assert shortfalls(rates(pairs), CONVERSATION_FLOORS[lang]) == [], (lang, rates(pairs))


@TARGETS_NOT_MET
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_cross_validated_by_batch_the_screen_meets_the_targets(lang):
    """Leave one batch out: each batch screened by the rules and a model trained without it (the
    figures are computed by `tandem risk train` and kept in the model; the test above proves the model
    is current)."""
    artifact = packaged(lang)
    pooled = artifact["info"]["cross_validated"]["pooled"]
    assert len(artifact["info"]["batches"]) >= 3
    assert shortfalls(pooled, CV_TARGETS) == [], (lang, pooled)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_whole_conversations_meet_the_high_risk_recall_target(lang):
    from service.risk.conversation import screen_conversation

    conversations = [c for c in load_conversations(LABELLED / "conversations") if c.lang == lang]
    assert conversations
    pairs = [(c.level, screen_conversation(list(c.messages), c.lang).level) for c in conversations]
    assert shortfalls(rates(pairs), CONVERSATION_TARGETS) == [], (lang, rates(pairs))


def test_the_engine_version_names_the_model():
    assert ENGINE_VERSION.endswith(f"+model.{model_fingerprint()}")
    assert set(load_models()) == {"en", "fr"}


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "I'm going to kill myself tonight"),
        ("en", "this exam is killing me"),
        ("en", "Thursday night then."),
        ("en", "Tomorrow at 6 pm, after work"),
        ("fr", "je vais me suicider ce soir"),
        ("fr", "Jeudi soir alors."),
    ],
)
def test_the_model_only_ever_raises_the_rules_level(lang, text):
    assert screen_text(text, lang).level >= screen_rules(text, lang).level


def test_the_model_explains_itself_with_the_ngrams_that_pushed_the_score_up():
    text = "my arm is a mess again, sleeves tomorrow"  # no rule fires; the model raises it (recent self-harm)
    assert screen_rules(text, "en").level is RiskLevel.NONE
    result = screen_text(text, "en")
    assert result.level > RiskLevel.NONE
    learned = [item for item in result.evidence if item.rule == "model.en"]
    assert learned and all(item.category == "model" and "(+" in item.text for item in learned)
    weights = [float(item.text.rsplit("(+", 1)[1].rstrip(")")) for item in learned]
    assert weights == sorted(weights, reverse=True) and all(weight > 0 for weight in weights)


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Tomorrow at 6 pm, after work"),
        ("en", "I don't want to die, I want to feel better"),
        ("fr", "Samedi matin, depuis la cuisine"),
        ("fr", "Tout le monde pense que je suis incompétent."),
        # One weak score is not a level: the model finds these far from "at least low", so not high.
        ("fr", "Finir mes e-mails"),
        ("en", "can you write my cover letter for me after this?"),
        # "plan" inside an everyday plan does not open the gate (the rule file's ordinary_plan).
        ("en", "Call the bank on Monday morning about a payment plan"),
        ("en", "I went over my safety plan with my therapist today"),
    ],
)
def test_the_model_leaves_ordinary_text_and_cleared_risk_words_alone(lang, text):
    assert screen_text(text, lang).level is RiskLevel.NONE


@pytest.mark.parametrize(
    ("text", "opens"),
    [
        ("Call the bank about a payment plan", False),
        ("my meal plan for the week", False),
        ("I have a plan", True),
        ("a payment plan, and I have a plan for Friday", True),
    ],
)
def test_the_word_plan_opens_the_gate_unless_it_names_an_everyday_plan(text, opens):
    book = FRAMEBOOKS["en"]
    present = book.presence(normalize(text, RULEBOOKS["en"].speller).text)
    assert book.gate_open(present) is opens


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "on the drive home tonight I kept picturing how easy it would be to turn the wheel into the barrier"),
        ("fr", "si un bus me renversait en allant au travail je crois que ça ne me dérangerait pas vraiment"),
    ],
)
def test_the_model_reads_a_longer_text_that_holds_no_warning_sign_word(lang, text):
    """About one message at risk in six holds no word of the gate; from 11 words the model reads it,
    against thresholds of its own that keep false alarms outside the gate to 1 %."""
    assert screen_rules(text, lang).level is RiskLevel.NONE
    result = screen_text(text, lang)
    assert result.level > RiskLevel.NONE
    assert any(item.rule == f"model.{lang}" for item in result.evidence)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_texts_outside_the_gate_need_a_stronger_score_than_texts_inside(lang):
    model = MODELS[lang]
    assert model.outside_thresholds is not None and model.outside_min_words >= 11
    assert model.outside_thresholds[0] > model.thresholds[0]


def test_models_are_small_enough_in_memory():
    import sys

    for model in MODELS.values():
        size = sys.getsizeof(model.weights) + sum(
            sys.getsizeof(key) + sys.getsizeof(value) + 24 * len(value) for key, value in model.weights.items()
        )
        assert size < 50_000_000


def test_a_model_stored_in_an_earlier_format_is_refused_with_what_to_do():
    """Formats before 4 read other features (single words' characters, word pairs): their weights mean
    nothing to this code, so loading one says to train again rather than screening with it."""
    from service.risk.model import from_dict

    old = {**packaged("en"), "format": 3}
    with pytest.raises(ValueError, match="train it again"):
        from_dict(old)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_screening_reads_a_text_exactly_as_training_counts_its_features(lang):
    """Looking every run of the text up at once by its number finds the same n-grams, as often, as the
    feature list training counts: the probabilities agree to the last bit, repeats and long notes included."""
    from service.risk.features import ngram_features, rule_features
    from service.risk.text import evidence_in

    model = MODELS[lang]
    book = RULEBOOKS[lang]
    cases = [case for case in load_labelled(LABELLED) if case.lang == lang][::40]
    texts = [case.text for case in cases] + ["", "😀😀", "non non non non non " * 50, "x" * 10_000]
    for text in texts:
        normalized = normalize(text, book.speller)
        found = sorted(rule_features(evidence_in(book, normalized)))
        by_features = model.probabilities([*ngram_features(normalized.text), *found])[0]
        assert model.text_probabilities(normalized.text, found) == by_features, text


_POOL = sorted({word for case in load_labelled(LABELLED)[::25] for word in case.text.split()})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lang=st.sampled_from(["en", "fr"]),
    words=st.lists(st.one_of(st.sampled_from(_POOL), st.text(alphabet="abcz019éç'-!? ", max_size=8)), max_size=60),
)
def test_any_text_is_read_by_the_numbers_of_its_runs_as_training_lists_them(lang, words):
    """Whatever the text (corpus words in any order, repeated, with made-up ones, digits, accents and
    punctuation), screening's reading by numbers and training's list of features give the same
    probabilities to the last bit."""
    from service.risk.features import ngram_features

    model = MODELS[lang]
    normalized = normalize(" ".join(words), RULEBOOKS[lang].speller).text
    assert model.text_probabilities(normalized) == model.probabilities(ngram_features(normalized))[0]


def test_the_compiled_reader_is_built_where_the_project_is_installed():
    """`make test` installs the package with a C compiler at hand: screening must run on the compiled
    reader there (service/risk/_runs.c), not silently on the slower numpy one."""
    from service.risk import model

    assert model.COMPILED, "service/risk/_runs.c was not built: reinstall with a C compiler (make test does)"


def test_a_compiled_reader_built_from_an_older_source_is_not_used():
    """A module left from an earlier _runs.c (pulled without installing again) may take other arguments:
    screening reads with numpy instead, and still finds risk, rather than failing on every message."""
    import subprocess
    import sys

    script = (
        "import sys, types\n"
        "old = types.ModuleType('service.risk._runs')\n"
        "old.READER_VERSION = 0\n"
        "sys.modules['service.risk._runs'] = old\n"
        "from service.risk import model, screen_text\n"
        "assert not model.COMPILED\n"
        "print(screen_text('I have been saving my pills and wrote goodbye letters', 'en').level.label)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in {"moderate", "high"}


def _read_without_compiling(model, normalized, found=()):
    """The numpy reader and scorer: what model.py does where the compiled reader was not built."""
    from unittest import mock

    from service.risk import model as module

    with mock.patch.object(module, "_runs", None):
        read = model._read(normalized, found)
        return read, model._raw(read), [model._evidence(level, read, normalized) for level in MODEL_LEVELS]


def _assert_compiled_reads_as_numpy(model, normalized, found=()):
    import numpy as np

    read = model._read(normalized, found)
    expected, raw, evidence = _read_without_compiling(model, normalized, found)
    assert read.sizes == expected.sizes
    assert np.array_equal(read.ids, expected.ids) and np.array_equal(read.counts, expected.counts)
    assert model._raw(read) == pytest.approx(raw, rel=0, abs=1e-12)
    # The same words, pushing as much, in the same order, for every level.
    assert [model._evidence(level, read, normalized) for level in MODEL_LEVELS] == evidence


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_compiled_reader_reads_the_corpus_and_odd_texts_as_numpy_does(lang):
    """The compiled reader finds the same n-grams, as often, and scores them as numpy does: the corpus,
    an empty text, emoji, a run repeated past the table of counts, a 10,000-character note."""
    from service.risk.features import rule_features
    from service.risk.text import evidence_in

    model, book = MODELS[lang], RULEBOOKS[lang]
    texts = [case.text for case in load_labelled(LABELLED) if case.lang == lang][::15]
    texts += ["", "😀😀", "a", "non " * 5000, "x" * 10_000, "je veux mourir " * 300]
    texts += ["ＡＢＣ １２３ ٣ ß ﬁn KILL 9mm", "pills \ud800 saved"]
    for text in texts:
        normalized = normalize(text, book.speller)
        _assert_compiled_reads_as_numpy(model, normalized.text, sorted(rule_features(evidence_in(book, normalized))))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lang=st.sampled_from(["en", "fr"]),
    words=st.lists(
        st.one_of(st.sampled_from(_POOL), st.text(alphabet="abcz019éçＡ٣\ud800'-!? ", max_size=8)), max_size=60
    ),
)
def test_any_text_is_read_by_the_compiled_reader_as_numpy_reads_it(lang, words):
    _assert_compiled_reads_as_numpy(MODELS[lang], normalize(" ".join(words), RULEBOOKS[lang].speller).text)


def test_a_rarer_ngram_weighs_more_and_repeats_count_less_than_their_number():
    from service.risk.model import from_dict

    base = {
        "format": 4,
        "lang": "en",
        "weights": {"w:rope": [2.0, 1.0, 0.5, 1.0], "w:the": [0.1, 0.0, 0.0, 1.0], "c:ope": [0.0, 0.0, 0.0, 1.0]},
        "intercepts": [-1.0, -2.0, -3.0],
        "calibration": [[1.0, 0.0]] * 3,
        "thresholds": [0.5, 0.5, 0.5],
        "outside_min_words": 11,
    }
    plain = from_dict(base)
    rarer = from_dict({**base, "weights": {**base["weights"], "w:rope": [2.0, 1.0, 0.5, 3.0]}})
    assert rarer.text_probabilities("the rope")[0] > plain.text_probabilities("the rope")[0]
    # Repeating a word does not repeat its weight: counts are taken as 1 + ln(n), then scaled.
    once, thrice = plain.text_probabilities("rope the"), plain.text_probabilities("rope rope rope the")
    assert once[0] < thrice[0] < 1.0
    with pytest.raises(ValueError, match="format"):
        from_dict({**base, "format": 1})
