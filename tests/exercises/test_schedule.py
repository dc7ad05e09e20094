"""Due dates and weekly counts of an assignment, on the patient's calendar."""

from __future__ import annotations

from datetime import date

import pytest

from service.exercises.schedule import Pause, Schedule, WeekCount, iso_week, sum_weeks, week_counts

MONDAY = date(2026, 11, 2)  # ISO week 2026-W45


def test_due_every_three_days_from_the_start_date() -> None:
    schedule = Schedule(MONDAY, every_days=3)
    assert schedule.due_dates(date(2026, 10, 1), date(2026, 11, 12)) == [
        date(2026, 11, 2),
        date(2026, 11, 5),
        date(2026, 11, 8),
        date(2026, 11, 11),
    ]


def test_due_dates_stop_at_the_end_date_and_skip_pauses() -> None:
    schedule = Schedule(MONDAY, 1, ends_on=date(2026, 11, 8), pauses=(Pause(date(2026, 11, 4), date(2026, 11, 6)),))
    assert schedule.due_dates(MONDAY, date(2026, 11, 30)) == [
        date(2026, 11, 2),
        date(2026, 11, 3),
        date(2026, 11, 6),
        date(2026, 11, 7),
        date(2026, 11, 8),
    ]


def test_a_window_starting_mid_period_finds_the_next_due_date() -> None:
    assert Schedule(MONDAY, 7).due_dates(date(2026, 11, 3), date(2026, 11, 20)) == [
        date(2026, 11, 9),
        date(2026, 11, 16),
    ]


def test_next_due_is_the_current_period_until_it_is_done_then_the_next_one() -> None:
    schedule = Schedule(MONDAY, 3)
    thursday = date(2026, 11, 5)
    friday = date(2026, 11, 6)
    assert schedule.next_due(friday, []) == thursday  # due since Thursday, not done yet
    assert schedule.next_due(friday, [friday]) == date(2026, 11, 8)
    assert schedule.next_due(date(2026, 10, 30), []) == MONDAY  # before the start


def test_nothing_is_due_while_paused_or_after_the_end() -> None:
    assert Schedule(MONDAY, 1, pauses=(Pause(date(2026, 11, 4), None),)).next_due(date(2026, 11, 5), []) is None
    assert Schedule(MONDAY, 1, ends_on=date(2026, 11, 3)).next_due(date(2026, 11, 4), []) is None
    # Done on the last day: nothing more to do.
    assert Schedule(MONDAY, 1, ends_on=MONDAY).next_due(MONDAY, [MONDAY]) is None


def test_week_counts_expected_up_to_today_and_completed_per_iso_week() -> None:
    schedule = Schedule(MONDAY, 2)  # due on the 2nd, 4th, 6th, 8th (W45), then the 10th (W46)...
    done = [date(2026, 11, 2), date(2026, 11, 4), date(2026, 11, 4), date(2026, 11, 10)]
    counts = week_counts(schedule, done, today=date(2026, 11, 11), weeks=3)
    assert [c.week for c in counts] == ["2026-W44", "2026-W45", "2026-W46"]
    assert [(c.expected, c.completed) for c in counts] == [(0, 0), (4, 3), (1, 1)]
    assert [c.rate for c in counts] == [None, 0.75, 1.0]


def test_extra_sessions_do_not_push_a_week_above_one_hundred_percent() -> None:
    week = WeekCount("2026-W45", MONDAY, expected=1, completed=3)
    assert week.met == 1 and week.rate == 1.0


def test_summed_weeks_do_not_let_one_assignment_make_up_for_another() -> None:
    daily = week_counts(Schedule(MONDAY, 1), [MONDAY] * 7, today=MONDAY, weeks=1)
    weekly = week_counts(Schedule(MONDAY, 7), [], today=MONDAY, weeks=1)
    [total] = sum_weeks([daily, weekly], today=MONDAY, weeks=1)
    assert (total.expected, total.completed, total.met, total.rate) == (2, 7, 1, 0.5)


def test_iso_weeks_cross_the_year_boundary() -> None:
    assert iso_week(date(2027, 1, 1)) == "2026-W53"
    assert [c.week for c in sum_weeks([], today=date(2027, 1, 5), weeks=2)] == ["2026-W53", "2027-W01"]


def test_every_days_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Schedule(MONDAY, 0)
