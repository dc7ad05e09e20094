"""Change over an episode of care: reliable change, caseness and recovery (NHS Talking Therapies)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from service.errors import Invalid, NotFound
from service.measures.change import assess_change, assess_recovery, change_between

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def weekly(*totals: int) -> list[tuple[datetime, int]]:
    """Totals given one week apart, in the order given."""
    return [(START + timedelta(weeks=week), total) for week, total in enumerate(totals)]


@pytest.mark.parametrize(
    ("code", "baseline", "latest", "improved", "deteriorated", "status"),
    [
        ("phq9", 18, 12, True, False, "reliable_improvement"),
        ("phq9", 18, 13, False, False, "no_reliable_change"),
        ("phq9", 12, 18, False, True, "reliable_deterioration"),
        ("phq9", 12, 17, False, False, "no_reliable_change"),
        ("gad7", 12, 8, True, False, "reliable_improvement"),
        ("gad7", 12, 9, False, False, "no_reliable_change"),
        ("gad7", 8, 12, False, True, "reliable_deterioration"),
        ("gad7", 8, 11, False, False, "no_reliable_change"),
        ("phq9", 10, 10, False, False, "no_reliable_change"),
    ],
)
def test_reliable_change_starts_exactly_at_the_threshold(code, baseline, latest, improved, deteriorated, status):
    result = assess_change(code, weekly(baseline, latest))
    assert result.change == latest - baseline
    assert result.reliable_improvement is improved
    assert result.reliable_deterioration is deteriorated
    assert result.status == status


@pytest.mark.parametrize(
    ("code", "score", "case"),
    [("phq9", 10, True), ("phq9", 9, False), ("gad7", 8, True), ("gad7", 7, False)],
)
def test_caseness_starts_at_phq9_10_and_gad7_8(code, score, case):
    result = assess_change(code, weekly(score, score))
    assert result.caseness_baseline is case
    assert result.caseness_latest is case


def test_change_runs_from_the_first_to_the_latest_score_whatever_came_between():
    result = assess_change("phq9", weekly(20, 25, 3, 14))
    assert result.baseline is not None and result.latest is not None
    assert (result.baseline.score, result.latest.score, result.change) == (20, 14, -6)
    assert result.reliable_improvement
    assert result.count == 4


def test_scores_given_out_of_order_are_put_in_time_order():
    scores = weekly(20, 14)
    result = assess_change("phq9", list(reversed(scores)))
    assert result.baseline is not None
    assert result.baseline.at == START
    assert result.change == -6


def test_no_scores_is_insufficient_data():
    result = assess_change("gad7", [])
    assert result.status == "insufficient_data"
    assert (result.baseline, result.latest, result.change) == (None, None, None)
    assert not result.reliable_improvement and not result.reliable_deterioration
    assert result.caseness_baseline is None


def test_a_single_score_is_insufficient_data_but_shows_caseness():
    result = assess_change("phq9", weekly(16))
    assert result.status == "insufficient_data"
    assert result.change is None
    assert not result.reliable_improvement and not result.reliable_deterioration
    assert result.baseline == result.latest
    assert result.caseness_baseline is True


def test_change_is_json_ready():
    assert assess_change("gad7", weekly(12, 7)).to_dict() == {
        "instrument": "gad7",
        "status": "reliable_improvement",
        "count": 2,
        "baseline": {"at": "2025-01-06T09:00:00+00:00", "score": 12},
        "latest": {"at": "2025-01-13T09:00:00+00:00", "score": 7},
        "change": -5,
        "reliable_improvement": True,
        "reliable_deterioration": False,
        "caseness_baseline": True,
        "caseness_latest": False,
        "reliable_change_threshold": 4,
        "caseness_threshold": 8,
    }


def test_the_cssrs_has_no_total_to_follow():
    with pytest.raises(Invalid) as raised:
        assess_change("cssrs", weekly(1, 2))
    assert raised.value.detail == "C-SSRS has no total score to follow over time"


def test_an_unknown_instrument_is_not_found():
    with pytest.raises(NotFound):
        assess_change("bdi", weekly(1, 2))


@pytest.mark.parametrize("total", [28, -1, True, 12.5, "12"])
def test_an_impossible_phq9_total_is_refused(total):
    with pytest.raises(Invalid) as raised:
        assess_change("phq9", [(START, 12), (START + timedelta(days=7), total)])
    assert raised.value.detail == "a PHQ-9 total must be a whole number from 0 to 27"


def test_a_total_without_a_time_is_refused():
    with pytest.raises(Invalid):
        assess_change("gad7", [(date(2025, 1, 6), 12), (START, 8)])  # type: ignore[list-item]


def test_recovery_with_reliable_improvement_is_reliable_recovery():
    result = assess_recovery(phq9=weekly(15, 11, 5), gad7=weekly(10, 9, 3))
    assert result.status == "assessed"
    assert result.caseness_baseline is True and result.caseness_latest is False
    assert result.recovery and result.reliable_improvement and result.reliable_recovery
    assert not result.reliable_deterioration


def test_recovery_without_reliable_improvement_is_not_reliable_recovery():
    result = assess_recovery(phq9=weekly(11, 7), gad7=weekly(9, 6))
    assert result.recovery
    assert not result.reliable_improvement
    assert not result.reliable_recovery


def test_recovery_needs_both_measures_below_their_thresholds():
    result = assess_recovery(phq9=weekly(15, 5), gad7=weekly(12, 8))
    assert result.caseness_latest is True
    assert not result.recovery
    assert result.reliable_improvement
    assert not result.reliable_recovery


def test_latest_phq9_of_10_is_still_a_case_and_9_is_not():
    assert not assess_recovery(phq9=weekly(18, 10), gad7=weekly(9, 2)).recovery
    assert assess_recovery(phq9=weekly(18, 9), gad7=weekly(9, 2)).reliable_recovery


def test_caseness_at_baseline_on_anxiety_alone_counts():
    result = assess_recovery(phq9=weekly(6, 2), gad7=weekly(13, 4))
    assert result.caseness_baseline is True
    assert result.reliable_recovery


def test_someone_below_both_thresholds_at_baseline_cannot_recover():
    result = assess_recovery(phq9=weekly(9, 2), gad7=weekly(7, 1))
    assert result.status == "not_a_case_at_baseline"
    assert result.caseness_baseline is False
    assert not result.recovery and not result.reliable_recovery
    assert result.reliable_improvement


def test_improving_on_one_measure_while_deteriorating_on_the_other_is_deterioration_not_improvement():
    result = assess_recovery(phq9=weekly(20, 10), gad7=weekly(2, 6))
    assert result.phq9.reliable_improvement
    assert not result.reliable_improvement
    assert result.reliable_deterioration


def test_reliable_deterioration_on_either_measure_is_reported():
    result = assess_recovery(phq9=weekly(5, 11), gad7=weekly(5, 5))
    assert result.reliable_deterioration
    assert not result.reliable_improvement and not result.recovery


def test_recovery_needs_two_scores_on_both_measures():
    result = assess_recovery(phq9=weekly(20, 3), gad7=weekly(12))
    assert result.status == "insufficient_data"
    assert not result.recovery and not result.reliable_improvement and not result.reliable_recovery
    assert result.caseness_baseline is True
    assert result.caseness_latest is True


def test_deterioration_is_reported_even_when_the_other_measure_is_missing():
    result = assess_recovery(phq9=weekly(4, 16), gad7=[])
    assert result.status == "insufficient_data"
    assert result.reliable_deterioration


def test_no_scores_at_all_is_insufficient_data_with_unknown_caseness():
    result = assess_recovery(phq9=[], gad7=[])
    assert result.status == "insufficient_data"
    assert result.caseness_baseline is None and result.caseness_latest is None
    assert not any(
        [
            result.recovery,
            result.reliable_improvement,
            result.reliable_recovery,
            result.reliable_deterioration,
        ]
    )


def test_recovery_is_json_ready():
    shape = assess_recovery(phq9=weekly(15, 5), gad7=weekly(10, 3)).to_dict()
    assert {key: shape[key] for key in shape if key not in ("phq9", "gad7")} == {
        "status": "assessed",
        "caseness_baseline": True,
        "caseness_latest": False,
        "recovery": True,
        "reliable_improvement": True,
        "reliable_recovery": True,
        "reliable_deterioration": False,
    }
    assert shape["phq9"]["change"] == -10 and shape["gad7"]["change"] == -7


@pytest.mark.parametrize(
    "totals",
    [[], [12], [20, 3, 9], [3, 3], [5, 26, 14, 11], [9, 4]],
)
def test_change_from_the_first_and_latest_and_a_count_equals_change_over_every_total(totals: list[int]) -> None:
    # What a caseload page reads from the database (the two ends and how many) says the same as the series.
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    series = [(start + timedelta(weeks=n), total) for n, total in enumerate(totals)]
    first, latest = (series[0], series[-1]) if series else (None, None)
    assert change_between("phq9", first, latest, len(series)) == assess_change("phq9", series)


def test_ends_that_cannot_come_from_the_count_are_refused() -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with pytest.raises(Invalid):
        change_between("gad7", (at, 3), (at + timedelta(days=7), 9), 1)
    with pytest.raises(Invalid):
        change_between("gad7", (at, 3), None, 2)
    with pytest.raises(Invalid):
        change_between("gad7", (at, 30), (at, 30), 1)  # above the GAD-7's 21
