"""Response bodies read straight from table rows: ``Model.model_validate(row, from_attributes=True)``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator


class RowOut(BaseModel):
    """A response body whose fields are read from a row's attributes of the same names."""

    model_config = ConfigDict(from_attributes=True)


class Risk(BaseModel):
    level: str
    categories: list[str]


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
