from pathlib import Path

import pytest

from service.errors import Invalid
from service.risk import Evidence, RiskLevel, RiskResult
from service.risk.evaluation import TARGETS, LabelledCase, evaluate, load_labelled

LABELLED = Path(__file__).parent / "labelled"


# The first two batches, written with the rules (issue 10 organised the corpus by batch): the in-sample
# bar below is theirs. New batches are measured by cross-validation (test_cross_validation.py).
FIRST_BATCHES = [LABELLED / "en.tsv", LABELLED / "fr.tsv"]


@pytest.fixture(scope="module")
def report():
    return evaluate([case for path in FIRST_BATCHES for case in load_labelled(path)])


def test_the_labelled_set_is_large_and_every_level_is_well_represented():
    cases = load_labelled(LABELLED)
    assert len(cases) >= 400
    for lang in ("en", "fr"):
        in_lang = [case for case in cases if case.lang == lang]
        assert len(in_lang) >= 250
        for level in RiskLevel:
            assert sum(case.level is level for case in in_lang) >= 40, (lang, level)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_screen_meets_its_targets_on_the_labelled_set(report, lang):
    scores = report.by_language[lang]
    assert scores.sensitivity >= TARGETS["sensitivity"]
    assert scores.specificity >= TARGETS["specificity"]
    assert scores.high_risk_recall >= TARGETS["high_risk_recall"]
    assert scores.shortfalls() == []


def test_the_report_table_shows_each_language_and_the_total(report):
    table = report.format_table()
    assert table.splitlines()[1].split() == [
        "language",
        "n",
        "sensitivity",
        "specificity",
        "high",
        "recall",
        "exact",
    ]
    assert [line.split()[0] for line in table.splitlines()[2:5]] == ["en", "fr", "overall"]
    assert report.overall.n == report.by_language["en"].n + report.by_language["fr"].n


def fake_screen(levels):
    def screen(text, lang):
        level = levels[text]
        evidence = [Evidence("test.rule", "test", text, level)] if level else []
        return RiskResult.from_evidence(evidence)

    return screen


def case(level, text):
    return LabelledCase("en", RiskLevel.parse(level), text, f"en.tsv:{text}")


def test_rates_count_what_a_clinician_cares_about():
    cases = [case("none", "a"), case("none", "b"), case("low", "c"), case("moderate", "d"), case("high", "e"),
             case("high", "f")]  # fmt: skip
    screened = {"a": RiskLevel.NONE, "b": RiskLevel.LOW, "c": RiskLevel.MODERATE, "d": RiskLevel.NONE,
                "e": RiskLevel.HIGH, "f": RiskLevel.MODERATE}  # fmt: skip
    report = evaluate(cases, screen=fake_screen(screened))
    scores = report.by_language["en"]
    assert scores.n == 6
    assert scores.sensitivity == 3 / 4  # c, e, f found at low or above; d missed
    assert scores.specificity == 1 / 2  # a clear; b raised
    assert scores.high_risk_recall == 1 / 2  # e high; f only moderate
    assert scores.exact_accuracy == 2 / 6  # a and e
    assert [wrong.case.text for wrong in report.misclassified] == ["b", "c", "d", "f"]
    assert not report.meets_targets()
    assert "en.tsv:d: expected moderate, screened none (no rule): d" in report.format_table()
    assert report.to_dict()["languages"]["en"]["sensitivity"] == 0.75


def test_a_rate_with_nothing_to_measure_is_not_applicable():
    report = evaluate([case("none", "a")], screen=fake_screen({"a": RiskLevel.NONE}))
    scores = report.by_language["en"]
    assert (scores.sensitivity, scores.high_risk_recall, scores.specificity) == (None, None, 1.0)
    assert "n/a" in report.format_table()
    assert "sensitivity n/a < 0.97" in scores.shortfalls()


def test_load_reads_a_file_or_a_folder(tmp_path):
    (tmp_path / "en.tsv").write_text("level\ttext\nnone\tfine today\n\n# a comment\nhigh\tI have a plan\n")
    (tmp_path / "fr.tsv").write_text("level\ttext\nlow\tj'ai envie de mourir\n")
    cases = load_labelled(tmp_path)
    assert [(c.lang, c.level.label, c.text, c.source) for c in cases] == [
        ("en", "none", "fine today", "en.tsv:2"),
        ("en", "high", "I have a plan", "en.tsv:5"),
        ("fr", "low", "j'ai envie de mourir", "fr.tsv:2"),
    ]
    assert load_labelled(tmp_path / "fr.tsv") == cases[2:]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("none\tfine\n", "header"),
        ("level\ttext\nsevere\tI have a plan\n", "en.tsv:2: unknown level"),
        ("level\ttext\nhigh\n", "en.tsv:2: expected"),
    ],
)
def test_a_malformed_labelled_file_is_refused_with_its_line(tmp_path, content, message):
    (tmp_path / "en.tsv").write_text(content)
    with pytest.raises(Invalid, match=message):
        load_labelled(tmp_path / "en.tsv")


def test_a_missing_set_is_refused(tmp_path):
    with pytest.raises(Invalid):
        load_labelled(tmp_path / "nowhere.tsv")
    with pytest.raises(Invalid):
        load_labelled(tmp_path)
