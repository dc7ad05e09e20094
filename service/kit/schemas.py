"""Response bodies read straight from table rows: ``Model.model_validate(row, from_attributes=True)``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    model_serializer,
    model_validator,
)


class RowOut(BaseModel):
    """A response body whose fields are read from a row's attributes of the same names."""

    model_config = ConfigDict(from_attributes=True)


RiskLevelName = Literal["none", "low", "moderate", "high"]


class Risk(BaseModel):
    """What the screening found in the client's own words or answers."""

    model_config = ConfigDict(json_schema_extra={"example": {"level": "low", "categories": ["hopelessness"]}})

    level: RiskLevelName = Field(
        description="none, low, moderate or high: from moderate the answer carries a crisis block, "
        "at low a support block."
    )
    categories: list[str] = Field(description="What the signal was about (such as self_harm or hopelessness).")


class _AsGiven(BaseModel):
    """A block answered exactly as the service built it: optional keys it left out stay out, and keys
    this schema does not name yet are kept (a crisis line must never be dropped by a schema)."""

    model_config = ConfigDict(extra="allow")

    @model_serializer(mode="wrap")
    def _as_given(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        # No return annotation on purpose: Pydantic then documents the block with its own fields.
        data = handler(self)
        given = self.model_fields_set | set(self.model_extra or {})
        return {key: value for key, value in data.items() if key in given}


class CrisisLine(_AsGiven):
    """One line to call or text, for the client's country, in their language."""

    name: str = Field(description="The service's name, in the client's language.")
    kind: str | None = Field(None, description="emergency, crisis (a listening line) or text (a text line).")
    phone: str | None = Field(None, description="The number to call or text (absent for a directory).")
    url: str | None = Field(None, description="The service's web page.")
    hours: str | None = Field(None, description="When it answers, in the client's language.")


class CrisisPlanSection(_AsGiven):
    """One part of the client's safety plan that holds something."""

    code: str = Field(
        description="warning_signs, coping, distractions, people_to_ask, professionals, safe_environment "
        "or reasons_for_living."
    )
    title: str = Field(description="The section's title, in the client's language.")
    prompt: str | None = Field(None, description="The question the section answers, in the client's language.")
    items: list[str] = Field(description="What the client wrote, in their order.")


class CrisisPlan(_AsGiven):
    """The client's own safety plan, as they last saved it."""

    version: int = Field(description="The plan's version number.")
    updated_at: datetime | None = Field(None, description="When the plan was last saved.")
    sections: list[CrisisPlanSection] = Field(description="The sections that hold something, in the plan's order.")


_BLOCK_EXAMPLE: dict[str, Any] = {
    "message": "You don't have to go through this alone. If you are in danger now, call 911.",
    "resources": [{"kind": "crisis", "name": "988 Suicide & Crisis Lifeline", "phone": "988", "hours": "24/7"}],
    "clinic_instructions": "Call the clinic's duty line on 555-0100 during opening hours.",
}


class CrisisBlock(_AsGiven):
    """Shown at once, before anything else, when the client's words or answers carry a moderate or high risk."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                **_BLOCK_EXAMPLE,
                "care_team_notice": "Your care team will see this within a few hours on a working day.",
            }
        }
    )

    message: str = Field(description="A warm, direct sentence naming the emergency number, in the client's language.")
    resources: list[CrisisLine] = Field(description="The lines for the client's country, emergency number first.")
    clinic_instructions: str | None = Field(None, description="The clinic's own instructions, when it wrote some.")
    care_team_notice: str | None = Field(
        None, description="The honest sentence about when the care team will see this, following the alert's severity."
    )
    safety_plan: CrisisPlan | None = Field(None, description="The client's safety plan, whenever one exists.")
    resources_url: str | None = Field(
        None, description="Where the full list of lines is (GET it with the access token)."
    )


class SupportBlock(CrisisBlock):
    """A gentle support message with the same lines, when the client's words carry a low risk."""

    model_config = ConfigDict(
        json_schema_extra={"example": {**_BLOCK_EXAMPLE, "resources_url": "/api/v1/crisis-resources"}}
    )


class ScreenedOut(RowOut):
    """A row that keeps the risk result of its own text or answers (``risk_level``,
    ``risk_categories``), shown as one ``risk`` object. Values the row does not hold (a label in the
    reader's language) come in the validation context."""

    risk: Risk

    @model_validator(mode="before")
    @classmethod
    def _from_row(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict):
            return data
        values = {name: getattr(data, name) for name in cls.model_fields if hasattr(data, name)}
        values["risk"] = Risk(level=data.risk_level, categories=list(data.risk_categories))
        return {**values, **(info.context or {})}
