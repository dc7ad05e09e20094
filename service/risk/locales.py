"""Language tags as clients and clinics send them ("fr-CA", "en_GB", "FR") read as a primary language."""

from __future__ import annotations


def primary_language(tag: str | None) -> str:
    """The primary subtag, lowercase: "fr-CA" -> "fr"; empty for a missing tag."""
    return (tag or "").strip().lower().replace("_", "-").split("-")[0]
