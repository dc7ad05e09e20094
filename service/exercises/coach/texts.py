"""The coach's own texts and data files, and the filling of {placeholders} in them."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from service.exercises.catalog import PLACEHOLDER
from service.kit.i18n import pick_locale

DATA_DIR = Path(__file__).with_name("data")


@cache
def data_file(name: str) -> Mapping[str, Any]:
    """One TOML file of ``service/exercises/coach/data``, read once per process."""
    with (DATA_DIR / name).open("rb") as file:
        return MappingProxyType(tomllib.load(file))


def coach_texts(locale: str) -> Mapping[str, str]:
    return MappingProxyType(data_file("texts.toml")[pick_locale(locale)])


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill {name} placeholders in one pass, so that a client's words are never read as placeholders."""
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1), ""), template)


def paragraphs(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())
