import pytest

from service.errors import Invalid
from service.risk import RiskLevel, screen_cssrs, screen_gad7, screen_phq9, screen_reliable_deterioration


def phq9(item9=0, others=0):
    return [others] * 8 + [item9]


@pytest.mark.parametrize(("item9", "level"), [(0, "none"), (1, "low"), (2, "moderate"), (3, "moderate")])
def test_phq9_item9_sets_the_level(item9, level):
    result = screen_phq9(phq9(item9=item9))
    assert result.level is RiskLevel.parse(level)
    if item9:
        assert [(item.rule, item.text) for item in result.evidence] == [("phq9.item9", f"PHQ-9 item 9 = {item9}")]
        assert result.categories == ("phq9_item9",)


def test_phq9_severe_total_is_at_least_low_even_with_item9_at_zero():
    result = screen_phq9([3, 3, 3, 3, 3, 3, 2, 0, 0])  # total 20
    assert result.level is RiskLevel.LOW
    assert [(item.rule, item.text) for item in result.evidence] == [("phq9.severe_total", "PHQ-9 total = 20")]
    assert screen_phq9([3, 3, 3, 3, 3, 3, 1, 0, 0]).level is RiskLevel.NONE  # total 19


def test_phq9_severe_total_and_item9_are_both_reported():
    result = screen_phq9([3, 3, 3, 3, 3, 3, 3, 3, 2])
    assert result.level is RiskLevel.MODERATE
    assert [item.rule for item in result.evidence] == ["phq9.item9", "phq9.severe_total"]


@pytest.mark.parametrize("answers", [[0] * 8, [0] * 10, [0] * 8 + [4], [0] * 8 + [-1], [0] * 8 + ["2"], "000000000"])
def test_phq9_answers_must_be_nine_scores_from_0_to_3(answers):
    with pytest.raises(Invalid):
        screen_phq9(answers)


def test_gad7_severe_total_is_low():
    assert screen_gad7([2, 2, 2, 2, 2, 2, 3]).level is RiskLevel.LOW  # 15
    assert screen_gad7([2, 2, 2, 2, 2, 2, 2]).level is RiskLevel.NONE  # 14
    assert [item.rule for item in screen_gad7([3] * 7).evidence] == ["gad7.severe_total"]


def test_gad7_needs_seven_answers():
    with pytest.raises(Invalid):
        screen_gad7([1] * 9)


#            items:  1  2  3  4  5  6  6b
CSSRS_TRIAGE = [
    ("no to everything", [0, 0, 0, 0, 0, 0, 0], "none", []),
    ("wish to be dead only", [1, 0, 0, 0, 0, 0, 0], "low", ["cssrs.item1"]),
    ("thoughts of killing oneself", [1, 1, 0, 0, 0, 0, 0], "low", ["cssrs.item1", "cssrs.item2"]),
    ("thinking about how", [1, 1, 1, 0, 0, 0, 0], "moderate", ["cssrs.item1", "cssrs.item2", "cssrs.item3"]),
    (
        "some intention of acting",
        [1, 1, 1, 1, 0, 0, 0],
        "high",
        ["cssrs.item1", "cssrs.item2", "cssrs.item3", "cssrs.item4"],
    ),
    ("a worked-out plan", [1, 1, 0, 0, 1, 0, 0], "high", ["cssrs.item1", "cssrs.item2", "cssrs.item5"]),
    ("behaviour within 3 months", [0, 0, 0, 0, 0, 1, 1], "high", ["cssrs.item6"]),
    ("behaviour longer ago", [0, 0, 0, 0, 0, 1, 0], "moderate", ["cssrs.item6"]),
    (
        "thoughts and old behaviour",
        [1, 1, 0, 0, 0, 1, 0],
        "moderate",
        ["cssrs.item1", "cssrs.item2", "cssrs.item6"],
    ),
    ("6b alone means nothing", [0, 0, 0, 0, 0, 0, 1], "none", []),
]


@pytest.mark.parametrize(("case", "answers", "level", "rules"), CSSRS_TRIAGE, ids=[row[0] for row in CSSRS_TRIAGE])
def test_cssrs_screener_triage(case, answers, level, rules):
    result = screen_cssrs(answers)
    assert result.level is RiskLevel.parse(level)
    assert [item.rule for item in result.evidence] == rules


def test_cssrs_evidence_says_when_the_behaviour_was():
    recent = screen_cssrs([0, 0, 0, 0, 0, 1, 1]).evidence[0]
    assert (recent.category, recent.text) == (
        "suicidal_behaviour",
        "C-SSRS item 6 = yes, 6b (past 3 months) = yes",
    )
    old = screen_cssrs([0, 0, 0, 0, 0, 1, 0]).evidence[0]
    assert old.text == "C-SSRS item 6 = yes, 6b (past 3 months) = no"
    assert old.level is RiskLevel.MODERATE


def test_cssrs_categories_follow_the_items():
    result = screen_cssrs([1, 1, 1, 1, 1, 1, 1])
    assert result.categories == (
        "passive_ideation",
        "active_ideation",
        "method",
        "intent",
        "plan",
        "suicidal_behaviour",
    )


@pytest.mark.parametrize("answers", [[0] * 6, [0] * 8, [0, 0, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, -1], [True] * 7])
def test_cssrs_answers_must_be_seven_zeros_or_ones(answers):
    with pytest.raises(Invalid):
        screen_cssrs(answers)


@pytest.mark.parametrize(
    ("instrument", "baseline", "latest", "level"),
    [
        ("phq9", 8, 14, "low"),
        ("PHQ-9", 8, 13, "none"),
        ("phq9", 14, 8, "none"),
        ("gad7", 5, 9, "low"),
        ("GAD-7", 5, 8, "none"),
    ],
)
def test_reliable_deterioration(instrument, baseline, latest, level):
    result = screen_reliable_deterioration(instrument, baseline, latest)
    assert result.level is RiskLevel.parse(level)
    if result.evidence:
        assert result.categories == ("reliable_deterioration",)


def test_reliable_deterioration_evidence_shows_the_change():
    evidence = screen_reliable_deterioration("phq9", 7, 15).evidence
    assert [(item.rule, item.text) for item in evidence] == [
        ("phq9.reliable_deterioration", "PHQ-9 total 7 -> 15 (+8)")
    ]


@pytest.mark.parametrize(("instrument", "baseline", "latest"), [("cssrs", 0, 1), ("phq9", 0, 28), ("gad7", -1, 5)])
def test_reliable_deterioration_refuses_unknown_instruments_and_impossible_totals(instrument, baseline, latest):
    with pytest.raises(Invalid):
        screen_reliable_deterioration(instrument, baseline, latest)
