"""The rule files a clinical safety officer reviews: every rule proven by its examples, loaded safely."""

import re
import shutil
from pathlib import Path

import pytest

from service.risk import ENGINE_VERSION, RiskLevel, screen_text
from service.risk.context import MessageContext
from service.risk.evaluation import load_labelled
from service.risk.normalize import normalize
from service.risk.patterns import RuleFileError
from service.risk.rulebook import RULEBOOKS, load_rulebook
from service.risk.text import find_evidence
from service.risk.version import RULES_DIR, model_fingerprint, rules_fingerprint

LABELLED = Path(__file__).parent / "labelled"
ALL_RULES = [(lang, rule) for lang, book in RULEBOOKS.items() for rule in book.rules]
CATEGORIES = {
    "passive_ideation", "active_ideation", "method", "intent", "plan", "preparation", "goodbye",
    "self_harm", "attempt", "harm_to_others",
}  # fmt: skip


@pytest.mark.parametrize(("lang", "rule"), ALL_RULES, ids=[rule.id for _, rule in ALL_RULES])
def test_every_rule_raises_its_own_examples(lang, rule):
    for example in rule.examples:
        result = screen_text(example, lang)
        assert rule.id in {item.rule for item in result.evidence}, example
        assert result.level >= rule.level or rule.history_level is not None, example


def test_rule_ids_name_their_language_and_categories_are_the_clinical_ones():
    for lang, rule in ALL_RULES:
        assert re.fullmatch(rf"{lang}\.[a-z_]+\.[a-z_]+", rule.id)
        assert rule.category in CATEGORIES
        assert rule.description


def test_both_languages_cover_every_category_and_level():
    for book in RULEBOOKS.values():
        assert {rule.category for rule in book.rules} == CATEGORIES
        assert {rule.level for rule in book.rules} == {RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH}


def _every_rule_evidence(book, text):
    """What the screen finds when every rule is tried, skipping the literal index."""
    normalized = normalize(text, book.speller)
    context = MessageContext(normalized.text, book.context)
    found = []
    for rule in book.rules:
        for match in rule.regex.finditer(normalized.text):
            level = context.level_for(rule, match.start(), match.end())
            if level is not None:
                found.append((rule.id, normalized.original_span(match.start(), match.end()), level))
    return found


def test_the_literal_index_never_skips_a_rule_that_would_match():
    messages = [(case.lang, case.text) for case in load_labelled(LABELLED)]
    messages += [(lang, example) for lang, rule in ALL_RULES for example in rule.examples]
    for lang, text in messages:
        book = RULEBOOKS[lang]
        # Frames (rule ids "<lang>.frame.*") are matched separately, without the literal index.
        fast = [(item.rule, item.text, item.level) for item in find_evidence(book, text) if ".frame." not in item.rule]
        assert fast == _every_rule_evidence(book, text), text


def test_engine_version_fingerprints_the_rule_files(tmp_path):
    assert re.fullmatch(r"tandem-risk/\d+\.\d+\.\d+\+rules\.[0-9a-f]{12}\+model\.[0-9a-f]{12}", ENGINE_VERSION)
    assert f"+rules.{rules_fingerprint(RULES_DIR)}+" in ENGINE_VERSION
    assert ENGINE_VERSION.endswith(f"+model.{model_fingerprint()}")
    copy = tmp_path / "rules"
    shutil.copytree(RULES_DIR, copy)
    assert rules_fingerprint(copy) == rules_fingerprint(RULES_DIR)
    fr = copy / "fr.toml"
    fr.write_text(fr.read_text(encoding="utf-8") + "\n# reviewed again\n", encoding="utf-8")
    assert rules_fingerprint(copy) != rules_fingerprint(RULES_DIR)


RULE = """
[[rule]]
id = "en.passive.test"
category = "passive_ideation"
level = "low"
description = "A test rule."
patterns = [{pattern}]
examples = ["I wish I was dead"]
counter_examples = ["I never wish I was dead"]
"""


def _rule_file(tmp_path, pattern='"wish i was dead"', extra=""):
    source = (RULES_DIR / "en.toml").read_text(encoding="utf-8")
    header = source.split("[[rule]]")[0]
    path = tmp_path / "en.toml"
    path.write_text(header + RULE.format(pattern=pattern) + extra, encoding="utf-8")
    return path


def test_a_well_formed_rule_file_loads(tmp_path):
    book = load_rulebook(_rule_file(tmp_path))
    assert [rule.id for rule in book.rules] == ["en.passive.test"]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('"wish i was <nowhere>"', "unknown term <nowhere>"),
        ('"wish i was (dead"', "invalid pattern"),
        ('"wish i was (?:dead||gone)"', "empty alternative"),
        ('"je pensé a mourir"', "normalised form"),
        ('"Wish I was dead"', "normalised form"),
        ('"(?:x)?"', "matches an empty text"),
    ],
)
def test_a_broken_pattern_is_refused_with_the_rule_named(tmp_path, pattern, message):
    with pytest.raises(RuleFileError, match=message) as error:
        load_rulebook(_rule_file(tmp_path, pattern))
    assert "en.passive.test" in str(error.value)


def test_a_rule_without_examples_or_with_an_unknown_level_is_refused(tmp_path):
    path = _rule_file(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace('\nexamples = ["I wish I was dead"]', ""), encoding="utf-8"
    )
    with pytest.raises(RuleFileError, match="example"):
        load_rulebook(path)
    path = _rule_file(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace('counter_examples = ["I never wish I was dead"]', ""), encoding="utf-8"
    )
    with pytest.raises(RuleFileError, match="counter-example"):
        load_rulebook(path)
    path = _rule_file(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace('level = "low"', 'level = "severe"'), encoding="utf-8")
    with pytest.raises(RuleFileError, match="level"):
        load_rulebook(path)


def test_a_duplicate_rule_id_is_refused(tmp_path):
    path = _rule_file(tmp_path, extra=RULE.format(pattern='"wish i were dead"'))
    with pytest.raises(RuleFileError, match="used twice"):
        load_rulebook(path)


def _replace_in(path, old, new):
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    return path


def test_a_misspelt_key_is_refused_rather_than_silently_ignored(tmp_path):
    with pytest.raises(RuleFileError, match="unknown keys"):
        load_rulebook(_replace_in(_rule_file(tmp_path), "negators = [", "negatros = ["))
    with pytest.raises(RuleFileError, match="unknown keys"):
        load_rulebook(_replace_in(_rule_file(tmp_path), "level = ", "negatable = false\nlevl = "))


def test_the_literal_scanner_finds_exactly_the_literals_a_text_holds_even_as_more_are_added():
    from service.risk.patterns import _LiteralScanner

    scanner = _LiteralScanner()
    assert scanner.find("anything at all") == frozenset()  # no literal yet: nothing, no error
    scanner.add({"rope", "pills", "kill myself", "myself"})
    assert scanner.find("i bought a rope and some pills") == {"rope", "pills"}
    assert scanner.find("i want to kill myself") == {"kill myself", "myself"}  # overlapping ones too
    scanner.add({"tonight"})  # a later rule file: the scanner is rebuilt with it
    assert scanner.find("tonight, myself") == {"tonight", "myself"}
    assert scanner.find("") == frozenset() and scanner.find("ropes") == {"rope"}


def test_a_rule_is_tried_only_when_one_of_its_patterns_has_a_literal_of_each_of_its_parts():
    from service.risk.patterns import LiteralIndex, literal_factors, required_literals

    phrases = [r"bought (?:[a-z]+ ){0,3}rope", r"noose"]
    assert literal_factors(phrases) == (
        (frozenset({"bought "}), frozenset({"rope"})),
        (frozenset({"noose"}),),
    )
    index = LiteralIndex({"means": required_literals(phrases)}, {"means": literal_factors(phrases)})
    assert index.find("i bought some rope today") == {"means"}
    assert index.find("tied a noose") == {"means"}
    # "bought " alone once made the rule a candidate; the rope is needed as well.
    assert index.find("i bought bread today") == set()
    assert LiteralIndex({"means": required_literals(phrases)}).find("i bought bread today") == {"means"}
