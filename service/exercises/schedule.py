"""When an assigned exercise is due, and how many times it was expected and done per ISO week.

Pure date arithmetic on the patient's own calendar: no database here. An assignment done "every
N days" is due on ``starts_on``, ``starts_on + N``, ``starts_on + 2N``... until ``ends_on``, except
on days it was paused. One completed session meets the due date whose period (the N days from that
date) it falls in.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta


@dataclasses.dataclass(frozen=True)
class Pause:
    starts_on: date
    ends_on: date | None  # the day it was resumed (not paused any more), or None while paused

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


@dataclasses.dataclass(frozen=True)
class Schedule:
    starts_on: date
    every_days: int
    ends_on: date | None = None  # the last day it may be due, inclusive
    pauses: tuple[Pause, ...] = ()

    def __post_init__(self) -> None:
        if self.every_days < 1:
            raise ValueError("every_days must be at least 1")

    def due_dates(self, first: date, last: date) -> list[date]:
        """Every due date between ``first`` and ``last`` inclusive."""
        last = min(last, self.ends_on) if self.ends_on else last
        if last < first or last < self.starts_on:
            return []
        offset = max(0, (first - self.starts_on).days)
        day = self.starts_on + timedelta(days=-(-offset // self.every_days) * self.every_days)
        dates = []
        while day <= last:
            if not any(p.covers(day) for p in self.pauses):
                dates.append(day)
            day += timedelta(days=self.every_days)
        return dates

    def period_start(self, day: date) -> date:
        """The due date whose period contains ``day`` (``starts_on`` before the schedule begins)."""
        if day <= self.starts_on:
            return self.starts_on
        return self.starts_on + timedelta(days=(day - self.starts_on).days // self.every_days * self.every_days)

    def next_due(self, today: date, completed_on: Iterable[date]) -> date | None:
        """The date the exercise is next due: the current period's date while it is not done yet
        (it may be a few days ago: it is due now), else the next period's. None when it is over or
        paused."""
        if any(p.covers(today) and p.ends_on is None for p in self.pauses):
            return None
        current = self.period_start(today)
        period_end = current + timedelta(days=self.every_days)
        done_now = today >= self.starts_on and any(current <= d < period_end for d in completed_on)
        due = period_end if done_now else current
        while any(p.covers(due) for p in self.pauses):
            due += timedelta(days=self.every_days)  # a due date inside a past pause was never asked for
        if self.ends_on and due > self.ends_on:
            return None
        return due


@dataclasses.dataclass(frozen=True)
class WeekCount:
    """One ISO week: how many times the exercise was due (up to today) and how many were done."""

    week: str  # ISO week, "2026-W47"
    starts_on: date  # its Monday
    expected: int
    completed: int
    # Set when weeks of several assignments are added up: extra sessions of one assignment do not
    # make up for another one's missed sessions.
    met_total: int | None = None

    @property
    def met(self) -> int:
        """Completions that count towards adherence: doing it more often than asked is not more than 100%."""
        return min(self.completed, self.expected) if self.met_total is None else self.met_total

    @property
    def rate(self) -> float | None:
        return None if self.expected == 0 else round(self.met / self.expected, 4)


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_counts(schedule: Schedule, completed_on: Iterable[date], *, today: date, weeks: int) -> list[WeekCount]:
    """The last ``weeks`` ISO weeks, oldest first, the current (partial) week last.

    Expected counts the due dates up to today; completed counts every session finished that week.
    """
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    done = Counter(completed_on)
    monday = today - timedelta(days=today.weekday())
    counts = []
    for back in range(weeks - 1, -1, -1):
        start = monday - timedelta(weeks=back)
        end = start + timedelta(days=6)
        expected = len(schedule.due_dates(start, min(end, today)))
        completed = sum(n for day, n in done.items() if start <= day <= min(end, today))
        counts.append(WeekCount(iso_week(start), start, expected, completed))
    return counts


def sum_weeks(per_assignment: list[list[WeekCount]], *, today: date, weeks: int) -> list[WeekCount]:
    """Several assignments' week counts (same weeks, same order) added up week by week."""
    if not per_assignment:
        monday = today - timedelta(days=today.weekday())
        starts = [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
        return [WeekCount(iso_week(start), start, 0, 0) for start in starts]
    return [
        WeekCount(
            same_week[0].week,
            same_week[0].starts_on,
            sum(c.expected for c in same_week),
            sum(c.completed for c in same_week),
            sum(c.met for c in same_week),
        )
        for same_week in zip(*per_assignment, strict=True)
    ]
