"""The words of summaries and their emails, read from `texts.toml` (English and French)."""

from __future__ import annotations

import re
import string
import tomllib
from functools import cache
from pathlib import Path

from babel import Locale

from service.kit.i18n import SUPPORTED_LOCALES, pick_locale

TEXTS_FILE = Path(__file__).with_name("texts.toml")
_FIELDS = re.compile(r"\{([a-z_]+)\}")


@cache
def all_texts() -> dict[str, dict[str, str]]:
    """Every text as {"section.key": {"en": ..., "fr": ...}}, checked once at first use.

    A missing language or a placeholder present in one language only is a deployment error:
    it must stop the service, never print a half-English or broken summary.
    """
    raw = tomllib.loads(TEXTS_FILE.read_text(encoding="utf-8"))
    texts: dict[str, dict[str, str]] = {}
    for section, entries in raw.items():
        for key, versions in entries.items():
            name = f"{section}.{key}"
            missing = [locale for locale in SUPPORTED_LOCALES if not versions.get(locale)]
            if missing:
                raise RuntimeError(f"{TEXTS_FILE.name}: {name} lacks {', '.join(missing)}")
            fields = {locale: set(_FIELDS.findall(versions[locale])) for locale in SUPPORTED_LOCALES}
            if len({frozenset(found) for found in fields.values()}) != 1:
                raise RuntimeError(f"{TEXTS_FILE.name}: {name} has different placeholders per language")
            texts[name] = {locale: versions[locale] for locale in SUPPORTED_LOCALES}
    return texts


def text(key: str, lang: str, **values: object) -> str:
    """The text `key` ("section.key") in `lang`, with its placeholders filled from `values`.

    With a number of things (`count`, else `days`), the singular `key_one` is used where the
    language's plural rules (Babel's CLDR data) say "one" for that number (1 in English; 0 and 1
    in French), so no text reads "1 days" or needs "(s)".
    """
    lang = pick_locale(lang)
    count = values.get("count", values.get("days"))
    if isinstance(count, int) and f"{key}_one" in all_texts() and Locale(lang).plural_form(count) == "one":
        key = f"{key}_one"
    template = all_texts()[key][lang]
    return string.Formatter().vformat(template, (), values) if values else template
