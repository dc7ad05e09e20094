"""The fixed list of check-in tags, read from `tags.toml` so labels can change without code."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.errors import Invalid
from service.kit.i18n import SUPPORTED_LOCALES, pick_locale

TAGS_FILE = Path(__file__).with_name("tags.toml")


@dataclass(frozen=True)
class Tag:
    code: str
    labels: dict[str, str]

    def label(self, locale: str) -> str:
        return self.labels[pick_locale(locale)]


@cache
def all_tags() -> tuple[Tag, ...]:
    raw = tomllib.loads(TAGS_FILE.read_text(encoding="utf-8"))
    tags = []
    for entry in raw["tag"]:
        missing = [locale for locale in SUPPORTED_LOCALES if not entry.get(locale)]
        if missing:
            raise RuntimeError(f"{TAGS_FILE.name}: tag {entry.get('code')!r} lacks {', '.join(missing)}")
        tags.append(Tag(code=entry["code"], labels={locale: entry[locale] for locale in SUPPORTED_LOCALES}))
    if len({tag.code for tag in tags}) != len(tags):
        raise RuntimeError(f"{TAGS_FILE.name}: two tags share a code")
    return tuple(tags)


def localized(locale: str) -> list[dict[str, str]]:
    return [{"code": tag.code, "label": tag.label(locale)} for tag in all_tags()]


def check_tags(codes: Sequence[str]) -> list[str]:
    """The codes in the order given, once each; `Invalid` naming any code that is not on the list."""
    known = {tag.code for tag in all_tags()}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise Invalid(
            f"unknown tag {', '.join(repr(code) for code in unknown)}; tags are one of: "
            + ", ".join(tag.code for tag in all_tags())
        )
    return list(dict.fromkeys(codes))
