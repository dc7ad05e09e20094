"""Concepts, frames and context modifiers (rules/<lang>.toml): each frame proven by its examples and
counter-examples, the modifiers read as data, a broken frame refused with its name."""

import pytest

from service.risk import RiskLevel, screen_text
from service.risk.frames import DIRECTIONS, FRAMEBOOKS, MODIFIER_CATEGORIES, frames_in, load_framebook
from service.risk.normalize import normalize
from service.risk.patterns import RuleFileError
from service.risk.rulebook import RULEBOOKS
from service.risk.version import RULES_DIR

ALL_FRAMES = [(lang, frame) for lang, book in FRAMEBOOKS.items() for frame in book.frames]
ALL_RULES = [(lang, rule) for lang, book in RULEBOOKS.items() for rule in book.rules]


def frame_ids(lang, text):
    return {item.rule for item in frames_in(FRAMEBOOKS[lang], normalize(text, RULEBOOKS[lang].speller))}


@pytest.mark.parametrize(("lang", "frame"), ALL_FRAMES, ids=[frame.id for _, frame in ALL_FRAMES])
def test_every_frame_fires_on_its_examples_and_never_on_its_counter_examples(lang, frame):
    for example in frame.examples:
        assert frame.id in frame_ids(lang, example), example
        assert screen_text(example, lang).level >= frame.level, example
    for counter in frame.counter_examples:
        assert frame.id not in frame_ids(lang, counter), counter


@pytest.mark.parametrize(("lang", "rule"), ALL_RULES, ids=[rule.id for _, rule in ALL_RULES])
def test_every_rule_stays_silent_on_its_counter_examples(lang, rule):
    assert rule.counter_examples
    for counter in rule.counter_examples:
        assert rule.id not in {item.rule for item in screen_text(counter, lang, models={}).evidence}, counter


def test_both_languages_have_the_concepts_and_frames_of_the_warning_signs():
    needed = {"first_person", "lethal_means", "pills", "acquisition", "stockpile", "finality", "farewell", "time",
              "intent", "target", "self_harm_act", "death_wish"}  # fmt: skip
    for book in FRAMEBOOKS.values():
        assert needed <= set(book.concepts)
        categories = {frame.category for frame in book.frames}
        assert {"preparation", "goodbye", "plan", "self_harm", "harm_to_others", "passive_ideation"} <= categories


def test_modifiers_are_data_with_a_category_a_direction_and_a_scope():
    for book in FRAMEBOOKS.values():
        kinds = {modifier.category for modifier in book.modifiers}
        assert {"NEGATED_EXISTENCE", "HYPOTHETICAL", "HISTORICAL", "OTHER_EXPERIENCER", "IDIOM"} <= kinds
        for modifier in book.modifiers:
            assert modifier.direction in DIRECTIONS
            assert modifier.category in (*MODIFIER_CATEGORIES, "TERMINATE", "PSEUDO")
            assert modifier.max_scope >= 1 and modifier.literal


@pytest.mark.parametrize(
    ("lang", "text", "level"),
    [
        ("en", "opened my arm up again last night", RiskLevel.HIGH),
        ("en", "I used to cut my thighs years ago", RiskLevel.MODERATE),  # historical: old behaviour
        ("en", "I never bought a rope", RiskLevel.NONE),  # negated
        ("en", "what if I bought a rope", RiskLevel.NONE),  # hypothetical
        ("en", "my flatmate bought a rope", RiskLevel.NONE),  # someone else
        ("fr", "je me suis tailladé les cuisses hier soir", RiskLevel.HIGH),
        ("fr", "je me tailladais les cuisses quand j'étais ado, il y a des années", RiskLevel.MODERATE),
        ("fr", "je n'ai jamais acheté de corde", RiskLevel.NONE),
    ],
)
def test_context_modifiers_change_what_a_frame_says(lang, text, level):
    found = frames_in(FRAMEBOOKS[lang], normalize(text, RULEBOOKS[lang].speller))
    assert max((item.level for item in found), default=RiskLevel.NONE) is level, found


def _framebook_with(tmp_path, frame):
    source = (RULES_DIR / "en.toml").read_text(encoding="utf-8")
    start = source.index("[[frame]]")
    path = tmp_path / "en.toml"
    path.write_text(source[:start] + frame, encoding="utf-8")
    return path


def test_a_frame_needs_examples_counter_examples_and_known_concepts(tmp_path):
    good = (
        '[[frame]]\nid = "en.frame.test"\ncategory = "preparation"\nlevel = "high"\ndescription = "t"\n'
        'all = ["acquisition", "lethal_means"]\nexamples = ["I bought a rope"]\ncounter_examples = ["I bought bread"]\n'
    )
    assert [frame.id for frame in load_framebook(_framebook_with(tmp_path, good)).frames] == ["en.frame.test"]
    with pytest.raises(RuleFileError, match=r"en\.frame\.test: a frame needs examples and counter_examples"):
        load_framebook(_framebook_with(tmp_path, good.replace('counter_examples = ["I bought bread"]\n', "")))
    with pytest.raises(RuleFileError, match=r"en\.frame\.test: unknown concept nowhere"):
        load_framebook(_framebook_with(tmp_path, good.replace('"lethal_means"', '"nowhere"')))
    with pytest.raises(RuleFileError, match="unknown keys"):
        load_framebook(_framebook_with(tmp_path, good.replace("level =", "levle =")))
