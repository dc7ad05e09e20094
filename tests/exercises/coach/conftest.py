from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.exercises.catalog import get_exercise
from service.exercises.coach import CoachContext
from tests.exercises.coach.llm_server import ChatCompletionServer


@pytest.fixture
def llm_server() -> Iterator[ChatCompletionServer]:
    server = ChatCompletionServer().start()
    yield server
    server.stop()


def context(code: str = "thought_record", locale: str = "en", **fields: Any) -> CoachContext:
    return CoachContext(exercise=get_exercise(code), locale=locale, **fields)
