"""A check-in's note is screened before anything waits on the database (admission, in English and
French, the patient's language not being known yet); the check-in then uses that screening in the
patient's language instead of screening the same note a third time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.risk import text as risk_text

URL = "/api/v1/checkins"


@pytest.fixture
def screenings(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    screen: Callable[..., Any] = risk_text._screen

    def counted(text: str, lang: str, *args: Any) -> Any:
        seen.append((text, lang))
        return screen(text, lang, *args)

    monkeypatch.setattr(risk_text, "_screen", counted)
    return seen


def test_a_note_is_screened_once_per_language(client: TestClient, sign_in, screenings) -> None:  # type: ignore[no-untyped-def]
    me = sign_in()
    answer = client.post(URL, json={"mood": 1, "note": "  I want to kill myself tonight.  "}, headers=me.headers)
    assert answer.status_code == 201 and answer.json()["crisis"] is not None  # the crisis lines still come
    note = "I want to kill myself tonight."
    assert sorted(screenings) == [(note, "en"), (note, "fr")]


def test_screenings_are_not_remembered_across_requests(client: TestClient, sign_in, screenings) -> None:  # type: ignore[no-untyped-def]
    me = sign_in()
    for _ in range(2):
        assert client.post(URL, json={"mood": 6, "note": "A calm day."}, headers=me.headers).status_code == 201
    # Each request screens its own note before anything waits (French: admission only, both times).
    assert screenings.count(("A calm day.", "fr")) == 2, screenings
