"""Text folding: the one form in which client words, names and phrases are compared."""

from __future__ import annotations

import re
import unicodedata


def fold(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces: the form words are matched in."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("’", "'").replace("‘", "'").replace("`", "'")
    return re.sub(r"\s+", " ", bare.casefold()).strip()
