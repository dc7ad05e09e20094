"""The safety plan as the client API reads and writes it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

MAX_ITEMS = 20
MAX_ITEM_CHARS = 500


class SectionIn(BaseModel):
    code: str = Field(max_length=40, description="One of the section codes (warning_signs, coping, ...).")
    items: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)


class SafetyPlanIn(BaseModel):
    """The whole plan: a section left out is kept as it was, a section given replaces its items."""

    sections: list[SectionIn] = Field(max_length=20)


class SectionOut(BaseModel):
    code: str
    title: str
    prompt: str
    items: list[str]


class SafetyPlanOut(BaseModel):
    version: int = Field(description="0 when the client has no plan yet.")
    updated_at: datetime | None
    sections: list[SectionOut]
