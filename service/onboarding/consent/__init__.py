"""Versioned consent texts, one Markdown file per version and locale: ``<version>.<locale>.md``.

A new version is a new pair of files; the highest version is the one clients accept at activation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from service.errors import NotFound
from service.kit.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, pick_locale

_FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class ConsentText:
    version: str
    locale: str
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@lru_cache
def _texts() -> dict[tuple[str, str], ConsentText]:
    texts = {}
    for path in sorted(_FOLDER.glob("*.md")):
        version, locale = path.stem.rsplit(".", 1)
        texts[(version, locale)] = ConsentText(version, locale, path.read_text(encoding="utf-8"))
    missing = {(v, loc) for v, _ in texts for loc in SUPPORTED_LOCALES} - texts.keys()
    if missing:
        raise RuntimeError(f"consent texts missing for {sorted(missing)}")
    return texts


def current_version() -> str:
    return max(version for version, _ in _texts())


def consent_text(locale: str, version: str | None = None) -> ConsentText:
    version = version or current_version()
    texts = _texts()
    locale = pick_locale(locale)
    text = texts.get((version, locale)) or texts.get((version, DEFAULT_LOCALE))
    if text is None:
        raise NotFound(f"no consent text version {version!r}")
    return text
