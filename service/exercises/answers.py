"""Reading a client's free-text answer to a catalog step into a structured value, and back.

``catalog/_answers.toml`` holds, per language, the words recognised in answers and the messages that
ask again when an answer cannot be used. Reading an answer never raises for anything a client might
type: ``parse_answer`` returns either the structured value or a localized message saying what is
expected, and the coach asks again.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from service.exercises.catalog import (
    CATALOG_DIR,
    MAX_MESSAGE_CHARS,
    PLACEHOLDER,
    AnswerResult,
    AnswerValue,
    ChoiceOption,
    Step,
    StepKind,
)
from service.kit.i18n import SUPPORTED_LOCALES as LOCALES
from service.kit.i18n import pick_locale
from service.kit.text import fold

# ---------------------------------------------------------------- words used to read answers


@dataclasses.dataclass(frozen=True)
class _Words:
    """Everything `_answers.toml` says about one language, folded for matching."""

    messages: Mapping[str, str]
    expected: Mapping[str, str]
    yes: tuple[str, ...]
    no: tuple[str, ...]
    skip: tuple[str, ...]
    help: tuple[str, ...]
    emotion_lead: tuple[str, ...]
    emotion_trail: tuple[str, ...]
    numbers: Mapping[str, int]
    and_word: str
    yes_label: str
    no_label: str
    skipped: str
    emotion_example: str
    decimal_separator: str
    # Compiled once per language from the words above.
    number: re.Pattern[str]
    emotion_named_first: re.Pattern[str]
    emotion_number_first: re.Pattern[str]
    emotion_separator: re.Pattern[str]
    item_connector: re.Pattern[str]
    leading_connector: re.Pattern[str]
    tens: re.Pattern[str]  # "nonante", "septante-cinq", "quatre-vingt-dix", "seventy-five"
    tens_values: Mapping[str, int]


@cache
def _answer_data() -> Mapping[str, Any]:
    with (CATALOG_DIR / "_answers.toml").open("rb") as file:
        return MappingProxyType(tomllib.load(file))


@cache
def _words(locale: str) -> _Words:
    """The words of ``locale`` for messages; for recognising words, every language is accepted,
    because a French-speaking client may well type "ok" and an English one "oui"."""
    data = _answer_data()
    own = data[locale]

    def union(key: str) -> tuple[str, ...]:
        first = [fold(w) for w in own[key]]
        rest = [fold(w) for lang in LOCALES if lang != locale for w in data[lang][key]]
        return tuple(dict.fromkeys(first + rest))

    numbers: dict[str, int] = {}
    for lang in LOCALES:
        numbers.update({fold(k): int(v) for k, v in data[lang]["number_words"].items()})
    tens_values: dict[str, int] = {}
    for lang in LOCALES:
        tens_values.update({fold(k): int(v) for k, v in data[lang]["tens_words"].items()})
        tens_values.update({fold(k): int(v) for k, v in data[lang]["unit_words"].items()})
    tens_alt = _alternatives(fold(k) for lang in LOCALES for k in data[lang]["tens_words"])
    unit_alt = _alternatives(fold(k) for lang in LOCALES for k in data[lang]["unit_words"])
    out_of = _alternatives(union("out_of_words"))
    connectors = _alternatives(union("connector_words"))
    emotion_number = _EMOTION_NUMBER.replace("OUT_OF", out_of)
    return _Words(
        messages=MappingProxyType(dict(own["reask"])),
        expected=MappingProxyType(dict(own["expected"])),
        yes=union("yes_words"),
        no=union("no_words"),
        skip=union("skip_words"),
        help=union("help_phrases"),
        emotion_lead=tuple(sorted(union("emotion_lead_words"), key=len, reverse=True)),
        emotion_trail=tuple(sorted(union("emotion_trail_words"), key=len, reverse=True)),
        numbers=MappingProxyType(numbers),
        and_word=own["and"],
        yes_label=own["yes"],
        no_label=own["no"],
        skipped=own["skipped"],
        emotion_example=own["emotion_example"],
        decimal_separator=own["decimal_separator"],
        number=re.compile(
            r"(?<![\w.,])(\d{1,9}(?:[.,]\d{1,6})?)(?!\d)"  # a comma is a decimal separator in French
            rf"(?:\s*(?:/|(?:{out_of})\s)\s*(\d{{1,6}}))?"  # "7/10", "7 out of 10", "7 sur 10"
            r"\s*(%)?"
        ),
        emotion_named_first=re.compile(r"([^\d,;\n]+?)\s*[:=(–-]*\s*" + emotion_number + r"\s*\)?", re.I),
        emotion_number_first=re.compile(r"^\s*" + emotion_number + r"\s+(\D+)$", re.I),
        emotion_separator=re.compile(rf"[,;\n]|\s+(?:{connectors})\s+", re.I),
        item_connector=re.compile(rf"(?:^|\s+)(?:{connectors})\s+", re.I),
        leading_connector=re.compile(rf"^\s*(?:{connectors})\s+", re.I),
        tens=re.compile(rf"(?<![\w-])({tens_alt})(?:[- ](?:et[- ])?({unit_alt}))?(?![\w-])", re.I),
        tens_values=MappingProxyType(tens_values),
    )


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so that "out of" wins over "out"."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _has_phrase(folded: str, phrases: Iterable[str]) -> bool:
    return any(phrase_pattern(p).search(folded) for p in phrases)


@cache
def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """A folded phrase as whole words: "no" must not match inside "nothing". A phrase may end with an
    apostrophe ("pense que j'") and then runs straight into the next word."""
    start = r"(?<!\w)" if phrase[:1].isalnum() else ""
    end = r"(?!\w)" if phrase[-1:].isalnum() else ""
    return re.compile(start + re.escape(phrase) + end)


# ---------------------------------------------------------------- reading an answer


def parse_answer(step: Step, text: str, locale: str) -> AnswerResult:
    """Read a client's message as the answer to ``step``: the structured value, or what to ask again."""
    lang = pick_locale(locale)
    words = _words(lang)
    cleaned = _clean(text)
    if step.kind is StepKind.INFO:
        return AnswerResult(ok=True)
    if _asks_for_help(cleaned, words):
        helptext = step.help.text(lang) if step.help else words.messages["help_default"]
        return AnswerResult(ok=False, reask=helptext, problem="help")
    if not step.validation.required and (not cleaned or _is_skip(cleaned, words)):
        return AnswerResult(ok=True, value=None)
    return _READERS[step.kind](step, cleaned, lang, words)


def describe_expected(step: Step, locale: str) -> str:
    """What an answer to ``step`` looks like, in words a client understands."""
    lang = pick_locale(locale)
    words = _words(lang)
    v = step.validation
    match step.kind:
        case StepKind.NUMBER | StepKind.SCALE:
            if v.min_value is not None and v.max_value is not None:
                low, high = _num(v.min_value, lang), _num(v.max_value, lang)
                return _fill(words.expected["number_range"], min=low, max=high)
            return words.expected["number"]
        case StepKind.CHOICE:
            options = "\n".join(f"{i}. {o.label.text(lang)}" for i, o in enumerate(step.options, 1))
            return _fill(words.expected["choice"], options=options)
        case StepKind.MULTI_TEXT:
            key = "list_range" if v.max_items is not None and v.max_items != v.min_items else "list_min"
            return _fill(words.expected[key], min=v.min_items or 1, max=v.max_items or "")
        case StepKind.EMOTION_RATINGS:
            return _fill(words.expected["emotion_ratings"], example=words.emotion_example)
        case StepKind.TIMER:
            return words.expected["timer"]
        case StepKind.CONFIRM:
            return words.expected["confirm"]
        case _:
            return words.expected["text"]


def format_answer(step: Step, value: AnswerValue, locale: str) -> str:
    """A stored answer as a short phrase in ``locale`` (for reflections and summaries)."""
    lang = pick_locale(locale)
    words = _words(lang)
    if value is None:
        return words.skipped
    match step.kind:
        case StepKind.EMOTION_RATINGS if isinstance(value, list):
            ratings = [r for r in value if isinstance(r, dict)]
            return join_words([f"{r['emotion']} ({_num(r['intensity'], lang)})" for r in ratings], lang)
        case StepKind.MULTI_TEXT if isinstance(value, list):
            return join_words([str(item) for item in value], lang)
        case StepKind.CHOICE:
            option = next((o for o in step.options if o.value == value), None)
            return option.label.text(lang) if option else str(value)
        case StepKind.CONFIRM:
            return words.yes_label if value else words.no_label
        case StepKind.TIMER if isinstance(value, dict):
            return f"{value.get('pattern')} × {value.get('cycles_done')}"
        case StepKind.NUMBER | StepKind.SCALE if isinstance(value, int | float):
            return _num(value, lang)
        case _:
            return str(value)


def join_words(items: list[str], locale: str) -> str:
    """ "a, b and c" in the words of ``locale``."""
    and_word = _words(pick_locale(locale)).and_word
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {and_word} {items[-1]}"


def _clean(text: str) -> str:
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text[:MAX_MESSAGE_CHARS].splitlines()]
    return "\n".join(line for line in lines if line)


def _tens_as_digits(text: str, words: _Words) -> str:
    """ "triste nonante" -> "triste 90", "septante-cinq" -> "75": tens written in words, in any region's
    French or in English, become digits before a rating is read."""

    def digits(match: re.Match[str]) -> str:
        tens, unit = match.group(1), match.group(2)
        return str(words.tens_values[fold(tens)] + (words.tens_values[fold(unit)] if unit else 0))

    return words.tens.sub(digits, text)


def _asks_for_help(cleaned: str, words: _Words) -> bool:
    folded = fold(cleaned)
    bare = folded.rstrip(" ?!.")
    if folded in words.help or bare in words.help:
        return True
    # A short question that opens with a help phrase ("what do you mean by evidence?").
    return folded.endswith("?") and len(folded) <= 80 and any(bare.startswith(p) for p in words.help if len(p) > 1)


def _is_skip(cleaned: str, words: _Words) -> bool:
    return fold(cleaned).rstrip(" .!") in words.skip


def _fill(template: str, **values: object) -> str:
    return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


def _reask(words: _Words, problem: str, **values: object) -> AnswerResult:
    return AnswerResult(ok=False, reask=_fill(words.messages[problem], **values), problem=problem)


def _num(value: float, lang: str) -> str:
    if float(value).is_integer():
        return str(int(value))
    return f"{value:g}".replace(".", _words(lang).decimal_separator)


def _as_number(value: float) -> int | float:
    rounded = round(value, 2)
    return int(rounded) if rounded.is_integer() else rounded


# --- text


def _read_text(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    v = step.validation
    if not re.search(r"\w", cleaned):
        return _reask(words, "text_required")
    if v.min_length is not None and len(cleaned) < v.min_length:
        return _reask(words, "text_too_short", min=v.min_length)
    if v.max_length is not None and len(cleaned) > v.max_length:
        return _reask(words, "text_too_long", max=v.max_length)
    return AnswerResult(ok=True, value=cleaned)


# --- numbers and scales


def _read_number_value(cleaned: str, step: Step, words: _Words) -> tuple[float | None, str | None]:
    """The one number in the message, brought onto the step's scale; or the problem."""
    folded = _tens_as_digits(fold(cleaned), words)
    readings = []
    for number, denominator, percent in words.number.findall(folded):
        value = float(number.replace(",", "."))
        base = float(denominator) if denominator else (100.0 if percent else None)
        readings.append(_rescale(value, base, step))
    if not readings:
        readings = [float(words.numbers[w]) for w in re.findall(r"[\w']+", folded) if w in words.numbers]
    distinct = set(readings)
    if not distinct:
        return None, "number_missing"
    if len(distinct) > 1:
        return None, "number_ambiguous"
    return distinct.pop(), None


def number_readings(step: Step, text: str, locale: str) -> list[tuple[int, float]]:
    """Every number in ``text`` with where it starts, brought onto the step's scale ("7/10" on 0-100 is 70)."""
    words = _words(pick_locale(locale))
    folded = _tens_as_digits(fold(_clean(text)), words)
    readings = []
    for match in words.number.finditer(folded):
        number, denominator, percent = match.groups()
        base = float(denominator) if denominator else (100.0 if percent else None)
        readings.append((match.start(), _rescale(float(number.replace(",", ".")), base, step)))
    return readings


def _rescale(value: float, denominator: float | None, step: Step) -> float:
    """ "8/10" on a 0-100 scale means 80; "70%" on a 0-10 scale means 7."""
    low, high = step.validation.min_value, step.validation.max_value
    if denominator and low == 0 and high and denominator != high:
        return value * high / denominator
    return value


def _read_number(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    expected = describe_expected(step, lang)
    value, problem = _read_number_value(cleaned, step, words)
    if value is None:
        return _reask(words, problem or "number_missing", expected=expected)
    v = step.validation
    if (v.min_value is not None and value < v.min_value) or (v.max_value is not None and value > v.max_value):
        return _reask(words, "number_out_of_range", value=_num(value, lang), expected=expected)
    return AnswerResult(ok=True, value=_as_number(value))


# --- choices


def _read_choice(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    folded = fold(cleaned).strip(" .!")
    index = re.fullmatch(r"(?:n[o°]\s*)?#?(\d{1,3})[.)]?", folded)
    if index and 1 <= int(index.group(1)) <= len(step.options):
        return AnswerResult(ok=True, value=step.options[int(index.group(1)) - 1].value)
    matches = [o for o in step.options if _option_matches(o, folded)]
    if len(matches) == 1:
        return AnswerResult(ok=True, value=matches[0].value)
    if step.own_words and not index and len(re.findall(r"[^\W\d_]{2,}", cleaned)) >= 1:
        # "family and my health", "my music": several areas, or one of their own, in their words.
        return _read_text(step, cleaned, lang, words)
    return _reask(words, "choice_unknown", expected=describe_expected(step, lang))


def _option_matches(option: ChoiceOption, folded: str) -> bool:
    if not folded:
        return False
    names = {fold(option.value)} | {fold(option.label.text(lang)) for lang in LOCALES}
    for name in names:
        head = name.split(",")[0].split(":")[0].strip()  # "Yes, I can act on it" is chosen by "yes"
        if folded in (name, head) or _has_phrase(folded, [name, head]):
            return True
        # "part" for "Partly", "famille" for "Relations : famille, couple, amis".
        if len(folded) >= 4 and (name.startswith(folded) or _has_phrase(name, [folded])):
            return True
    return False


# --- lists


def _split_items(cleaned: str, words: _Words, *, on_connectors: bool) -> list[str]:
    """Items from lines, else from commas or semicolons; with ``on_connectors``, "and" separates too."""
    lines = cleaned.split("\n")
    pieces = lines if len(lines) > 1 else re.split(r"[;,]", cleaned)
    if on_connectors:
        pieces = [part for piece in pieces for part in words.item_connector.split(piece)]
    else:
        pieces = [words.leading_connector.sub("", piece) for piece in pieces]
    items = [re.sub(r"^\s*(?:[-*•·]|\d+[.)])\s*", "", p).strip(" .") for p in pieces]
    return [item for item in items if item]


def _read_list(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    v = step.validation
    items = _split_items(cleaned, words, on_connectors=False)
    # "birds and cars and my breath" counts as three things only when it has to: a sentence such
    # as "I called my mum and she was pleased" is better kept whole.
    if v.min_items is not None and len(items) < v.min_items:
        items = _split_items(cleaned, words, on_connectors=True)
    expected = describe_expected(step, lang)
    if v.min_items is not None and len(items) < v.min_items:
        return _reask(words, "list_too_few", count=len(items), expected=expected)
    if v.max_items is not None and len(items) > v.max_items:
        return _reask(words, "list_too_many", count=len(items), expected=expected)
    if v.max_length is not None and any(len(item) > v.max_length for item in items):
        return _reask(words, "item_too_long", max=v.max_length)
    return AnswerResult(ok=True, value=items)


# --- emotion ratings

_EMOTION_NUMBER = r"(\d{1,6}(?:\.\d{1,3})?)\s*(?:(%)|/\s*(\d{1,6})|(?:OUT_OF)\s+(\d{1,6}))?"
_MAX_EMOTION_WORDS = 4
_MAX_EMOTION_CHARS = 40
_MAX_EMOTION_SEGMENT_CHARS = 120


@dataclasses.dataclass
class _EmotionReading:
    ratings: list[dict[str, Any]]
    unrated: list[str]
    unclear: list[str]
    out_of_range: list[float]


def _read_emotions(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    reading = _scan_emotions(_tens_as_digits(cleaned, words), words)
    v = step.validation
    if reading.unclear:
        return _reask(words, "emotion_unclear", emotion=reading.unclear[0], example=words.emotion_example)
    if reading.unrated:
        return _reask(words, "emotion_unrated", emotion=reading.unrated[0], example=words.emotion_example)
    if reading.out_of_range:
        return _reask(words, "emotion_out_of_range", value=_num(reading.out_of_range[0], lang))
    if len(reading.ratings) < (v.min_items or 1):
        return _reask(words, "emotions_missing", example=words.emotion_example)
    if v.max_items is not None and len(reading.ratings) > v.max_items:
        return _reask(words, "emotions_too_many", max=v.max_items)
    return AnswerResult(ok=True, value=reading.ratings)


def _scan_emotions(cleaned: str, words: _Words) -> _EmotionReading:
    reading = _EmotionReading([], [], [], [])
    for segment in words.emotion_separator.split(cleaned):
        if not segment.strip():
            continue
        if len(segment) > _MAX_EMOTION_SEGMENT_CHARS:
            # A sentence, not "emotion number"; and the pattern below is slow on long runs of text.
            reading.unclear.append(segment.strip()[:_MAX_EMOTION_CHARS] + "…")
            continue
        reversed_match = words.emotion_number_first.match(segment)
        if reversed_match:
            *value_parts, name = reversed_match.groups()
            _add_rating(reading, name, value_parts, words)
            continue
        end = 0
        for match in words.emotion_named_first.finditer(segment):
            _note_unrated(reading, segment[end : match.start()], words)
            name, *value_parts = match.groups()
            _add_rating(reading, name, value_parts, words)
            end = match.end()
        _note_unrated(reading, segment[end:], words)
    return reading


def _add_rating(reading: _EmotionReading, raw_name: str, value_parts: list[str], words: _Words) -> None:
    number, _percent, slash, out_of = value_parts  # a percentage is already on the 0-100 scale
    value = float(number or 0)
    denominator = slash or out_of
    if denominator and float(denominator) > 0:
        value = value * 100 / float(denominator)
    name = _emotion_name(raw_name, words)
    if not name or len(name) > _MAX_EMOTION_CHARS or len(name.split()) > _MAX_EMOTION_WORDS:
        reading.unclear.append(raw_name.strip() or number or "")
    elif not 0 <= value <= 100:
        reading.out_of_range.append(value)
    else:
        reading.ratings.append({"emotion": name, "intensity": round(value)})


def _note_unrated(reading: _EmotionReading, leftover: str, words: _Words) -> None:
    name = _emotion_name(leftover, words)
    if name:
        reading.unrated.append(name)


def _emotion_name(raw: str, words: _Words) -> str:
    """The emotion word(s) without "I felt", "very", "about"... as the client wrote them, lower case."""
    name = re.sub(r"\s+", " ", raw).strip(" \t:=()-–.!'\"“”«»").lower()
    changed = True
    while changed and name:
        changed = False
        folded = fold(name)
        for lead in words.emotion_lead:
            if folded.startswith(lead + " "):
                name, changed = name[len(lead) :].strip(" :-"), True
                break
        folded = fold(name)
        for trail in words.emotion_trail:
            if folded.endswith(" " + trail) or folded == trail:
                name, changed = name[: len(name) - len(trail)].strip(" :-"), True
                break
    return name if re.search(r"[^\W\d_]", name) else ""


# --- timers and confirmations


def _read_timer(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    pattern = step.breathing
    assert pattern is not None  # checked when the catalog loads
    numbers = [int(n) for n in re.findall(r"(?<!\d)(\d{1,2})(?!\d)", cleaned)]
    # "done" means the planned cycles; "I managed 4" records what was actually done.
    cycles_done = numbers[0] if len(numbers) == 1 and 0 < numbers[0] <= pattern.cycles * 3 else pattern.cycles
    return AnswerResult(
        ok=True,
        value={
            "pattern": pattern.name,
            "inhale_seconds": pattern.inhale_seconds,
            "hold_seconds": pattern.hold_seconds,
            "exhale_seconds": pattern.exhale_seconds,
            "cycles": pattern.cycles,
            "cycles_done": cycles_done,
        },
    )


def _read_confirm(step: Step, cleaned: str, lang: str, words: _Words) -> AnswerResult:
    folded = fold(cleaned)
    # The first word decides: "yes, though it was not easy" is a yes, "not yet, I'm not ready" a no.
    yes, no = _first_phrase(folded, words.yes), _first_phrase(folded, words.no)
    if yes is None and no is None:
        return _reask(words, "confirm_unclear")
    return AnswerResult(ok=True, value=no is None or (yes is not None and yes < no))


def _first_phrase(folded: str, phrases: Iterable[str]) -> tuple[int, int] | None:
    """Where the earliest of ``phrases`` starts (longest first on a tie), or None."""
    found = [(m.start(), -len(p)) for p in phrases if (m := phrase_pattern(p).search(folded))]
    return min(found) if found else None


_READERS: dict[StepKind, Callable[[Step, str, str, _Words], AnswerResult]] = {
    StepKind.TEXT: _read_text,
    StepKind.NUMBER: _read_number,
    StepKind.SCALE: _read_number,
    StepKind.CHOICE: _read_choice,
    StepKind.MULTI_TEXT: _read_list,
    StepKind.EMOTION_RATINGS: _read_emotions,
    StepKind.TIMER: _read_timer,
    StepKind.CONFIRM: _read_confirm,
}
