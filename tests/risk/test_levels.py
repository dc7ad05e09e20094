import pytest

from service.errors import Invalid
from service.risk import ENGINE_VERSION, Evidence, RiskLevel, RiskResult, combine


def test_levels_are_ordered_like_the_cssrs_triage():
    assert RiskLevel.NONE < RiskLevel.LOW < RiskLevel.MODERATE < RiskLevel.HIGH
    assert max(RiskLevel.LOW, RiskLevel.HIGH, RiskLevel.MODERATE) is RiskLevel.HIGH
    assert [level.label for level in RiskLevel] == ["none", "low", "moderate", "high"]


@pytest.mark.parametrize("text", ["high", "HIGH", " High "])
def test_level_parses_from_its_label(text):
    assert RiskLevel.parse(text) is RiskLevel.HIGH


@pytest.mark.parametrize("text", ["severe", "", "3"])
def test_unknown_level_label_is_refused(text):
    with pytest.raises(Invalid):
        RiskLevel.parse(text)


def test_empty_result_is_none_with_the_engine_version():
    result = RiskResult.none()
    assert result.level is RiskLevel.NONE
    assert result.to_dict() == {
        "level": "none",
        "categories": [],
        "evidence": [],
        "engine_version": ENGINE_VERSION,
    }


def test_result_serialises_level_categories_and_evidence():
    evidence = Evidence("en.intent.stated", "intent", "going to kill myself", RiskLevel.HIGH)
    result = RiskResult.from_evidence([evidence])
    assert result.to_dict() == {
        "level": "high",
        "categories": ["intent"],
        "evidence": [
            {
                "rule": "en.intent.stated",
                "category": "intent",
                "text": "going to kill myself",
                "level": "high",
            }
        ],
        "engine_version": ENGINE_VERSION,
    }


def test_combine_keeps_the_highest_level_and_every_piece_of_evidence_in_order():
    low = RiskResult.from_evidence([Evidence("phq9.item9", "phq9_item9", "PHQ-9 item 9 = 1", RiskLevel.LOW)])
    high = RiskResult.from_evidence([Evidence("cssrs.item4", "intent", "C-SSRS item 4 = yes", RiskLevel.HIGH)])
    combined = combine(low, RiskResult.none(), high, low)
    assert combined.level is RiskLevel.HIGH
    assert combined.categories == ("phq9_item9", "intent")
    assert [item.rule for item in combined.evidence] == ["phq9.item9", "cssrs.item4"]
    assert RiskResult.combine(low, high) == combined


def test_combine_of_nothing_is_none():
    assert combine() == RiskResult.none()
