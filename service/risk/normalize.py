"""Normalised text for matching, with a map back to the client's own words.

Rules are written against one plain form of the text: lowercase, no accents, straight apostrophes,
hyphens read as spaces, single spaces (line breaks kept), letters repeated three times or more squeezed to one
("dieee" -> "die"), digits and symbols inside a word read as letters ("k1ll" -> "kill"), and close
misspellings of key words corrected ("sucide" -> "suicide"). Evidence quotes the client's original
words, so every step keeps, for each normalised character, the span of the original it came from.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

_APOSTROPHES = "\u2018\u2019\u201b\u02bc\u02b9\u0060\u00b4\u2032\uff07"
_HYPHENS = "-\u2010\u2011\u00ad"
_DASHES = "\u2012\u2013\u2014\u2015\u2212"
# Line breaks separate thoughts the way full stops do, so they survive normalisation.
_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
# Letters NFKD leaves whole; folded by hand so "sœur" matches "soeur".
_SPECIAL_FOLDS = {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l", "ı": "i", "ŀ": "l"}
# Latin, Greek and punctuation blocks, Latin ligatures and full-width forms: enough for en and fr.
_FOLDED_BLOCKS = (range(0x0000, 0x3000), range(0xFB00, 0xFB07), range(0xFF01, 0xFF5F))


def _fold(char: str) -> str:
    if char in _APOSTROPHES:
        return "'"
    if char in _HYPHENS:
        return " "
    if char in _DASHES:
        return ","
    if char in _LINE_BREAKS:
        return "\n"
    if char.isspace():
        return " "
    lowered = char.lower()
    if lowered in _SPECIAL_FOLDS:
        return _SPECIAL_FOLDS[lowered]
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(part for part in decomposed if not unicodedata.combining(part))


def _build_fold_table() -> tuple[dict[int, str], str]:
    table: dict[int, str] = {}
    uneven: list[str] = []
    for block in _FOLDED_BLOCKS:
        for code in block:
            char = chr(code)
            folded = _fold(char)
            if folded != char:
                table[code] = folded
            if len(folded) != 1:
                uneven.append(char)
    return table, "".join(uneven)


_FOLD_TABLE, _UNEVEN_CHARS = _build_fold_table()
# The same table with every other character of the folded blocks mapped to itself: `str.translate`
# then finds each character it meets (a character missing from the table costs a caught KeyError),
# which folds a text with accents about three times faster, to the same result.
_TRANSLATION: dict[int, str | int] = {code: _FOLD_TABLE.get(code, code) for block in _FOLDED_BLOCKS for code in block}
# Characters whose folded form is not exactly one character (accents written as combining marks,
# ligatures): only then does folding shift positions.
_UNEVEN = re.compile("[" + re.escape(_UNEVEN_CHARS) + "]")
_LEET = re.compile(r"(?<=[a-z])[013457@$!]+(?=[a-z])")
_LEET_TABLE = str.maketrans("013457@$!", "oieastasi")
_SQUEEZE = re.compile(r" {2,}|([a-z])\1{2,}")
# Whether there is anything to squeeze: a search that stops at the first one, about twice as fast as
# looking for every one (few messages have any).
_SQUEEZABLE = re.compile(r"([a-z])\1\1|  ")
_WORD = re.compile(r"[a-z]+")
_WORD_OR_MASKED = re.compile(r"[a-z*]*[a-z][a-z*]*")


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """The normalised text, and for each of its characters the original span it came from."""

    original: str
    text: str
    starts: Sequence[int] | None = None  # None: positions are the same as in the original
    ends: Sequence[int] | None = None

    def original_span(self, start: int, end: int) -> str:
        if self.starts is None or self.ends is None:
            return self.original[start:end].strip()
        return self.original[self.starts[start] : self.ends[end - 1]].strip()


class Speller:
    """Reads close misspellings of a few key words as the word itself.

    Only long, distinctive words are corrected by edit distance, and never at their last two
    letters (where French and English put endings), so "suicidez" stays a real form while
    "sucide" and "suiside" become "suicide". Short words get explicit variants instead. Letters
    hidden by stars to get past filters ("s*icidal") are read as the key word they can only be.
    """

    def __init__(
        self, fuzzy_words: Iterable[str], variants: Mapping[str, str], never_correct: Iterable[str] = ()
    ) -> None:
        canonical = set(fuzzy_words) | set(variants.values())
        protected = canonical | set(never_correct)
        corrections: dict[str, str] = {}
        for word in fuzzy_words:
            for variant in _near_misspellings(word):
                if variant not in protected:
                    corrections.setdefault(variant, word)
        corrections.update(variants)
        self.corrections: dict[str, str] = corrections
        self._keys = frozenset(corrections)
        self._fuzzy = tuple(fuzzy_words)

    def corrections_in(self, text: str, words: Iterable[str] | None = None) -> bool:
        """Whether the speller may change `text` (`words`: its words, when already found)."""
        return "*" in text or not self._keys.isdisjoint(_WORD.findall(text) if words is None else words)

    def edits(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        for match in _WORD_OR_MASKED.finditer(text):
            word = match.group()
            corrected = self._unmask(word) if "*" in word else self.corrections.get(word)
            if corrected is not None:
                found.append((match.start(), match.end(), corrected))
        return found

    def _unmask(self, word: str) -> str | None:
        """A word with letters hidden by stars ("s*icide") read as the one key word it can be."""
        matches = {
            key
            for key in self._fuzzy
            if len(key) == len(word) and all(seen in ("*", letter) for seen, letter in zip(word, key, strict=True))
        }
        return matches.pop() if len(matches) == 1 else None


def _near_misspellings(word: str) -> set[str]:
    letters = string.ascii_lowercase
    body, ending = len(word) - 2, word[-2:]
    found: set[str] = set()
    for i in range(body):
        found.add(word[:i] + word[i + 1 :])  # a letter missing
        found.update(word[:i] + c + word[i + 1 :] for c in letters)  # a letter changed
    for i in range(body + 1):
        found.update(word[:i] + c + word[i:] for c in letters)  # a letter added
    for i in range(len(word) - 1):
        found.add(word[:i] + word[i + 1] + word[i] + word[i + 2 :])  # two letters swapped
    # Keep the ending as it is (or with its two letters swapped): endings carry grammar, not typos.
    return {variant for variant in found if len(variant) >= 5 and variant[-2:] in (ending, ending[::-1])}


def normalize(text: str, speller: Speller | None = None) -> NormalizedText:
    folded, starts, ends, words = _spelled_out(text)
    if speller is not None and speller.corrections_in(folded, words):
        folded, starts, ends = _apply(folded, starts, ends, speller.edits(folded))
    return NormalizedText(text, folded, starts, ends)


# The last text brought to plain form before spelling, that form and its words (one tuple, so a thread
# reads it whole): a message is normalised for each language's speller in turn, and only that last
# step differs; each speller looks for its corrections among the same words.
_last: list[tuple[str, str, list[int] | None, list[int] | None, frozenset[str]]] = []


def _spelled_out(text: str) -> tuple[str, list[int] | None, list[int] | None, frozenset[str]]:
    """Folded, leetspeak read as letters, repeats squeezed: every step but the speller's; and the words."""
    last = _last[0] if _last else None
    if last is not None and last[0] == text:
        return last[1], last[2], last[3], last[4]
    folded, starts, ends = _fold_text(text)
    folded = _LEET.sub(lambda match: match.group().translate(_LEET_TABLE), folded)
    if _SQUEEZABLE.search(folded) is not None:
        edits = [(match.start(), match.end(), match.group()[0]) for match in _SQUEEZE.finditer(folded)]
        folded, starts, ends = _apply(folded, starts, ends, edits)
    words = frozenset(_WORD.findall(folded))
    _last[:] = [(text, folded, starts, ends, words)]
    return folded, starts, ends, words


def _fold_text(text: str) -> tuple[str, list[int] | None, list[int] | None]:
    if text.isascii() or _UNEVEN.search(text) is None:
        return text.translate(_TRANSLATION), None, None
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for index, char in enumerate(text):
        folded = _FOLD_TABLE.get(ord(char), char)
        pieces.append(folded)
        starts.extend([index] * len(folded))
        ends.extend([index + 1] * len(folded))
    return "".join(pieces), starts, ends


def _apply(
    text: str, starts: list[int] | None, ends: list[int] | None, edits: list[tuple[int, int, str]]
) -> tuple[str, list[int], list[int]]:
    """Replace spans of `text`; each new character maps to the whole original span it replaces."""
    if starts is None or ends is None:
        starts, ends = list(range(len(text))), list(range(1, len(text) + 1))
    pieces: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    last = 0
    for start, end, replacement in edits:
        pieces.append(text[last:start])
        new_starts.extend(starts[last:start])
        new_ends.extend(ends[last:start])
        pieces.append(replacement)
        new_starts.extend([starts[start]] * len(replacement))
        new_ends.extend([ends[end - 1]] * len(replacement))
        last = end
    pieces.append(text[last:])
    new_starts.extend(starts[last:])
    new_ends.extend(ends[last:])
    return "".join(pieces), new_starts, new_ends
