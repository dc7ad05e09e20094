"""Scoring and validation of questionnaire answers, band by band and branch by branch."""

from __future__ import annotations

import pytest

from service.errors import Invalid, NotFound
from service.measures.instruments import get_instrument
from service.measures.scoring import score, validate_answers


def answers_totalling(total: int, items: int) -> list[int]:
    """Answers of 3 from the first item on, then the remainder, then zeros."""
    answers = [0] * items
    for index in range(items):
        answers[index] = min(3, total)
        total -= answers[index]
    assert total == 0
    return answers


def cssrs(*yes: str) -> list[int]:
    """C-SSRS answers with "yes" to the given item ids and "no" elsewhere."""
    return [1 if item_id in yes else 0 for item_id in ("1", "2", "3", "4", "5", "6", "6b")]


@pytest.mark.parametrize(
    ("total", "severity", "label_en", "label_fr"),
    [
        (0, "minimal", "Minimal", "Minimale"),
        (4, "minimal", "Minimal", "Minimale"),
        (5, "mild", "Mild", "Légère"),
        (9, "mild", "Mild", "Légère"),
        (10, "moderate", "Moderate", "Modérée"),
        (14, "moderate", "Moderate", "Modérée"),
        (15, "moderately_severe", "Moderately severe", "Modérément sévère"),
        (19, "moderately_severe", "Moderately severe", "Modérément sévère"),
        (20, "severe", "Severe", "Sévère"),
        (27, "severe", "Severe", "Sévère"),
    ],
)
def test_phq9_total_falls_in_the_published_severity_band(total, severity, label_en, label_fr):
    result = score("phq9", answers_totalling(total, 9))
    assert result.total == total
    assert result.severity == severity
    assert result.severity_label == {"en": label_en, "fr": label_fr}


@pytest.mark.parametrize(
    ("total", "severity"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_total_falls_in_the_published_severity_band(total, severity):
    result = score("gad7", answers_totalling(total, 7))
    assert (result.total, result.severity) == (total, severity)


def test_item_scores_are_kept_in_item_order():
    result = score(get_instrument("gad7"), [0, 1, 2, 3, 2, 1, 0])
    assert result.item_scores == (0, 1, 2, 3, 2, 1, 0)
    assert result.total == 9
    assert result.instrument == "gad7"


def test_phq9_difficulty_answer_is_kept_but_not_counted_in_the_total():
    result = score("phq9", [1, 1, 1, 1, 1, 0, 0, 0, 0, 3])
    assert result.total == 5
    assert result.severity == "mild"
    assert result.difficulty == 3
    assert result.item_scores == (1, 1, 1, 1, 1, 0, 0, 0, 0)


def test_phq9_without_difficulty_answer_has_no_difficulty():
    assert score("phq9", [0] * 9).difficulty is None


def test_score_is_json_ready():
    assert score("gad7", [1] * 7).to_dict() == {
        "instrument": "gad7",
        "total": 7,
        "severity": "mild",
        "severity_label": {"en": "Mild", "fr": "Légère"},
        "item_scores": [1] * 7,
        "difficulty": None,
    }


@pytest.mark.parametrize(
    ("yes", "level"),
    [
        ((), "none"),
        (("1",), "low"),
        (("2",), "low"),
        (("1", "2"), "low"),
        (("2", "3"), "moderate"),
        (("1", "2", "3"), "moderate"),
        (("6",), "moderate"),
        (("1", "6"), "moderate"),
        (("2", "4"), "high"),
        (("2", "5"), "high"),
        (("2", "3", "4", "5"), "high"),
        (("6", "6b"), "high"),
        (("1", "2", "3", "6", "6b"), "high"),
    ],
)
def test_cssrs_triage_follows_the_screener(yes, level):
    result = score("cssrs", cssrs(*yes))
    assert result.severity == level
    assert result.total is None
    assert result.item_scores == tuple(cssrs(*yes))


def test_cssrs_behaviour_more_than_3_months_ago_is_moderate_not_high():
    assert score("cssrs", cssrs("6")).severity == "moderate"
    assert score("cssrs", cssrs("6", "6b")).severity == "high"


def test_cssrs_triage_labels_exist_in_both_languages():
    assert score("cssrs", cssrs("2", "4")).severity_label == {"en": "High risk", "fr": "Risque élevé"}
    assert score("cssrs", cssrs()).severity_label == {"en": "No risk identified", "fr": "Aucun risque repéré"}


@pytest.mark.parametrize(
    ("code", "answers", "detail"),
    [
        ("phq9", [0] * 8, "PHQ-9 has 9 items; got 8 answers"),
        ("phq9", [0] * 11, "PHQ-9 has 9 items; got 11 answers"),
        ("phq9", [], "PHQ-9 has 9 items; got 0 answers"),
        ("gad7", [0] * 8, "GAD-7 has 7 items; got 8 answers"),
        ("cssrs", [0], "C-SSRS has 7 items; got 1 answer"),
        ("cssrs", [0] * 8, "C-SSRS has 7 items; got 8 answers"),
    ],
)
def test_wrong_number_of_answers_is_refused(code, answers, detail):
    with pytest.raises(Invalid) as raised:
        validate_answers(code, answers)
    assert raised.value.detail.startswith(detail)


def test_only_the_phq9_mentions_its_optional_difficulty_answer():
    with pytest.raises(Invalid) as phq9:
        validate_answers("phq9", [0] * 8)
    with pytest.raises(Invalid) as gad7:
        validate_answers("gad7", [0] * 6)
    assert "difficulty question may follow as answer 10" in phq9.value.detail
    assert gad7.value.detail == "GAD-7 has 7 items; got 6 answers"


@pytest.mark.parametrize("bad", ["2", 1.0, None, True, False, [1]])
def test_an_answer_that_is_not_a_whole_number_is_refused_and_named(bad):
    answers: list = [0] * 9
    answers[2] = bad
    with pytest.raises(Invalid) as raised:
        validate_answers("phq9", answers)
    assert raised.value.detail == "PHQ-9 item 3: the answer must be a whole number from 0 to 3"


@pytest.mark.parametrize(
    ("position", "value", "detail"),
    [
        (4, 4, "PHQ-9 item 5: the answer must be from 0 to 3; got 4"),
        (0, -1, "PHQ-9 item 1: the answer must be from 0 to 3; got -1"),
        (9, 4, "PHQ-9 difficulty question: the answer must be from 0 to 3; got 4"),
    ],
)
def test_an_out_of_range_phq9_answer_is_refused_and_its_item_named(position, value, detail):
    answers = [0] * 10
    answers[position] = value
    with pytest.raises(Invalid) as raised:
        validate_answers("phq9", answers)
    assert raised.value.detail == detail


def test_an_out_of_range_cssrs_answer_is_refused_and_its_item_named():
    answers = cssrs()
    answers[6] = 2
    with pytest.raises(Invalid) as raised:
        validate_answers("cssrs", answers)
    assert raised.value.detail == "C-SSRS item 6b: the answer must be from 0 to 1; got 2"


@pytest.mark.parametrize("not_a_list", ["000000000", b"000000000", {"1": 0}, None, 5])
def test_answers_that_are_not_a_list_are_refused(not_a_list):
    with pytest.raises(Invalid) as raised:
        validate_answers("phq9", not_a_list)
    assert raised.value.detail == "PHQ-9 answers must be a list of whole numbers"


def test_answers_may_be_a_tuple():
    assert score("gad7", (3,) * 7).total == 21


@pytest.mark.parametrize("skipped", ["3", "4", "5"])
def test_cssrs_refuses_a_yes_to_a_question_skipped_after_no_thoughts_of_suicide(skipped):
    with pytest.raises(Invalid) as raised:
        validate_answers("cssrs", cssrs(skipped))
    assert raised.value.detail == (
        f"C-SSRS item {skipped} is asked only when item 2 is 'Yes'; item 2 was 'No', so item {skipped} must be 0"
    )


def test_cssrs_refuses_a_recent_behaviour_answer_without_behaviour():
    with pytest.raises(Invalid) as raised:
        validate_answers("cssrs", cssrs("6b"))
    assert (
        raised.value.detail
        == "C-SSRS item 6b is asked only when item 6 is 'Yes'; item 6 was 'No', so item 6b must be 0"
    )


def test_scoring_refuses_what_validation_refuses():
    with pytest.raises(Invalid):
        score("cssrs", cssrs("1", "4"))
    with pytest.raises(Invalid):
        score("phq9", [0] * 8)


def test_scoring_an_unknown_instrument_is_not_found():
    with pytest.raises(NotFound):
        score("bdi", [0] * 21)
