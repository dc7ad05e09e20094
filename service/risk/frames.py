"""Concepts combined into frames, with context modifiers kept as data (after medspaCy's ConText).

Whole phrases miss what a client says in other words. A rule file therefore also lists:

- `[concepts]`: word classes (first person, means and methods, acquisition, finality, farewells,
  time and dates, intent verbs, other people as targets, self-harm acts, death wishes...), each a list
  of phrases over the normalised text, like rule patterns.
- `[[frame]]`: concepts that together, within one sentence (or clause) and a few words of each
  other, say something a clinician acts on: means + acquisition, intent + time, farewell + finality,
  target + harm for harm to others. A frame has a level and a category like a rule, `examples` that
  must raise it and `counter_examples` that must not; `unless` lists concepts that, in the same
  sentence, mean an ordinary use ("jump rope", "for the tent").
- `[[modifier]]`: context cues with `literal` (or a `pattern`), a `category` (NEGATED_EXISTENCE,
  HYPOTHETICAL, WISH (a wish, urge or thought rather than an act), HISTORICAL, RECENT,
  OTHER_EXPERIENCER, IDIOM), a `direction` (FORWARD: applies to what
  follows, BACKWARD: to what precedes, BIDIRECTIONAL, TERMINATE: ends every other cue's scope,
  PSEUDO: a look-alike that is no cue, "not only") and `max_scope` in words. A frame under a
  negation, a hypothetical, a wish, an idiom or someone else does not count (a frame may `ignore`
  some categories: an urge frame listens to no WISH cue); a historical one takes the
  frame's `history_level` (old behaviour) unless a recency cue is in the sentence.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.risk.levels import Evidence, RiskLevel
from service.risk.normalize import NormalizedText
from service.risk.patterns import (
    LiteralIndex,
    RuleFileError,
    compile_checked,
    expand_terms,
    required_literals,
    whole_words,
)
from service.risk.version import RULES_DIR

MODIFIER_CATEGORIES = (
    "NEGATED_EXISTENCE",
    "HYPOTHETICAL",
    "WISH",
    "HISTORICAL",
    "OTHER_EXPERIENCER",
    "IDIOM",
    "RECENT",
)
DIRECTIONS = ("FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO")
_DROPPING = {"NEGATED_EXISTENCE", "HYPOTHETICAL", "WISH", "OTHER_EXPERIENCER", "IDIOM"}
_FRAME_KEYS = {
    "id", "category", "level", "description", "all", "unless", "scope", "max_words", "history_level",
    "examples", "counter_examples", "ignore",
}  # fmt: skip
_MODIFIER_KEYS = {"literal", "pattern", "category", "direction", "max_scope", "comment"}
_SENTENCE = re.compile(r"[^.!?;\n]+")
_CLAUSE = re.compile(r"[^.!?;\n,:()\[\]\"]+")
_TOKEN = re.compile(r"[a-z0-9*]+(?:'[a-z0-9]+)*'?")


@dataclass(frozen=True, slots=True)
class Frame:
    id: str
    category: str
    level: RiskLevel
    description: str
    concepts: tuple[str, ...]  # all of these, in the same scope
    unless: tuple[str, ...]  # none of these in the sentence
    scope: str  # "sentence", "clause" or "message"
    max_words: int
    history_level: RiskLevel | None
    ignore: frozenset[str]  # modifier categories this frame does not listen to
    examples: tuple[str, ...]
    counter_examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Modifier:
    literal: str
    regex: re.Pattern[str]
    category: str
    direction: str
    max_scope: int


@dataclass(frozen=True, slots=True)
class FrameBook:
    lang: str
    concepts: Mapping[str, re.Pattern[str]]
    frames: tuple[Frame, ...]
    modifiers: tuple[Modifier, ...]
    first_person: str  # the concept that ends the reach of an OTHER_EXPERIENCER cue
    index: LiteralIndex[str]  # which concepts may be in a text (see patterns.LiteralIndex)
    gate: tuple[str, ...] = ()  # concepts one of which a text needs for the model to raise it
    # A gate concept found only inside a phrase of one of these (weak signs, not in the gate) does not
    # open the gate: « j'en ai fini avec tout ça » is a soft farewell, not the death word « fini ».
    gate_within: tuple[str, ...] = ()
    # Per frame, the concepts it needs, as a set (a text without one of them is skipped at once).
    frame_concepts: tuple[frozenset[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_concepts", tuple(frozenset(frame.concepts) for frame in self.frames))

    def gate_open(self, present: set[str] | Presence) -> bool:
        """Whether the learned model may raise this text: no gate, or one of its concepts is present
        outside the phrases of the `gate_within` concepts."""
        if not self.gate:
            return True
        # Only the gate concepts whose literals the text holds can be in it (`Presence.possible`).
        gate = self.gate if not isinstance(present, Presence) else [n for n in self.gate if n in present.possible]
        if not any(name in present for name in gate):
            return False
        if not isinstance(present, Presence) or not any(name in present for name in self.gate_within):
            return True
        text = present.text
        shields = [
            match.span() for name in self.gate_within if name in present for match in self.concepts[name].finditer(text)
        ]
        return any(
            not any(start <= match.start() and match.end() <= end for start, end in shields)
            for name in self.gate
            if name in present
            for match in self.concepts[name].finditer(text)
        )

    def present(self, text: str) -> set[str]:
        """The concepts found in a normalised text."""
        return {name for name in self.index.find(text) if self.concepts[name].search(text)}

    def presence(self, text: str) -> Presence:
        """Which concepts are in a text, each looked for only when first asked about."""
        return Presence(self, text)


class Presence:
    """Concept presence in one text, worked out lazily: most frames stop at their first absent concept."""

    def __init__(self, book: FrameBook, text: str) -> None:
        self._book = book
        self._text = text
        self._possible = book.index.find(text)
        self._known: dict[str, bool] = {}

    @property
    def text(self) -> str:
        return self._text

    @property
    def possible(self) -> frozenset[str] | set[str]:
        """The concepts whose literals the text holds: every concept in it is among them."""
        return self._possible

    def may_hold(self, names: frozenset[str]) -> bool:
        """Whether every one of these concepts may be in the text (their literals are): False means
        one of them is certainly absent, without running any concept's expression."""
        return names <= self._possible

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        found = self._known.get(name)
        if found is None:
            found = name in self._possible and self._book.concepts[name].search(self._text) is not None
            self._known[name] = found
        return found


@dataclass(frozen=True, slots=True)
class _Span:
    start: int  # first token index
    end: int  # one past the last token index
    last: int = -1  # for a frame's match: where its last concept starts (a cue must come before it)


def load_framebook(path: Path) -> FrameBook:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise RuleFileError(f"{where}: cannot be read ({error})") from None
    terms = {name: str(value) for name, value in data.get("terms", {}).items()}
    concepts: dict[str, re.Pattern[str]] = {}
    literals: dict[str, frozenset[str] | None] = {}
    for name, phrases in data.get("concepts", {}).items():
        if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) and p for p in phrases):
            raise RuleFileError(f"{where} concept {name}: a list of non-empty phrases is needed")
        expanded = [expand_terms(phrase, terms, f"{where} concept {name}") for phrase in phrases]
        concepts[name] = compile_checked(whole_words(expanded), f"{where} concept {name}")
        literals[name] = required_literals(expanded)
    frames = tuple(_frame(entry, concepts, where) for entry in data.get("frame", []))
    seen: set[str] = set()
    for frame in frames:
        if frame.id in seen:
            raise RuleFileError(f"{where}: frame id {frame.id} is used twice")
        seen.add(frame.id)
    modifiers = tuple(_modifier(entry, terms, where) for entry in data.get("modifier", []))
    first_person = "first_person"
    if frames and first_person not in concepts:
        raise RuleFileError(f"{where}: the concept first_person is required")
    lang = str(data.get("language", {}).get("code", path.stem))
    gate = tuple(str(name) for name in data.get("model", {}).get("gate", []))
    unknown = set(gate) - set(concepts)
    if unknown:
        raise RuleFileError(f"{where} [model] gate: unknown concepts {sorted(unknown)}")
    gate_within = tuple(str(name) for name in data.get("model", {}).get("gate_within", []))
    unknown = set(gate_within) - set(concepts)
    if unknown:
        raise RuleFileError(f"{where} [model] gate_within: unknown concepts {sorted(unknown)}")
    return FrameBook(lang, concepts, frames, modifiers, first_person, LiteralIndex(literals), gate, gate_within)


def _frame(entry: Mapping[str, Any], concepts: Mapping[str, re.Pattern[str]], file_name: str) -> Frame:
    frame_id = entry.get("id")
    if not isinstance(frame_id, str) or not frame_id:
        raise RuleFileError(f"{file_name}: a frame needs an id")
    where = f"{file_name} frame {frame_id}"
    unknown = set(entry) - _FRAME_KEYS
    if unknown:
        raise RuleFileError(f"{where}: unknown keys {sorted(unknown)}")
    needed = _names(entry, "all", where)
    if len(needed) < 1:
        raise RuleFileError(f"{where}: 'all' must name at least one concept")
    unless = _names(entry, "unless", where)
    for name in (*needed, *unless):
        if name not in concepts:
            raise RuleFileError(f"{where}: unknown concept {name}")
    examples = tuple(_names(entry, "examples", where))
    counter = tuple(_names(entry, "counter_examples", where))
    if not examples or not counter:
        raise RuleFileError(f"{where}: a frame needs examples and counter_examples")
    scope = entry.get("scope", "sentence")
    if scope not in ("sentence", "clause", "message"):
        raise RuleFileError(f"{where}: scope must be sentence, clause or message")
    max_words = entry.get("max_words", 12)
    if not isinstance(max_words, int) or max_words < 1:
        raise RuleFileError(f"{where}: max_words must be a positive whole number")
    ignore = frozenset(_names(entry, "ignore", where))
    if not ignore <= set(MODIFIER_CATEGORIES):
        raise RuleFileError(f"{where}: ignore lists unknown modifier categories")
    history = entry.get("history_level")
    return Frame(
        id=frame_id,
        category=_required(entry, "category", where),
        level=_level(entry.get("level"), where),
        description=_required(entry, "description", where),
        concepts=tuple(needed),
        unless=tuple(unless),
        scope=scope,
        max_words=max_words,
        history_level=None if history is None else _level(history, where),
        ignore=ignore,
        examples=examples,
        counter_examples=counter,
    )


def _modifier(entry: Mapping[str, Any], terms: Mapping[str, str], file_name: str) -> Modifier:
    literal = entry.get("literal")
    if not isinstance(literal, str) or not literal:
        raise RuleFileError(f"{file_name}: a modifier needs a literal")
    where = f"{file_name} modifier {literal!r}"
    unknown = set(entry) - _MODIFIER_KEYS
    if unknown:
        raise RuleFileError(f"{where}: unknown keys {sorted(unknown)}")
    pattern = entry.get("pattern", re.escape(literal))
    category = entry.get("category")
    direction = entry.get("direction")
    if category not in MODIFIER_CATEGORIES and direction not in ("TERMINATE", "PSEUDO"):
        raise RuleFileError(f"{where}: category must be one of {', '.join(MODIFIER_CATEGORIES)}")
    if direction not in DIRECTIONS:
        raise RuleFileError(f"{where}: direction must be one of {', '.join(DIRECTIONS)}")
    max_scope = entry.get("max_scope", 6)
    if not isinstance(max_scope, int) or max_scope < 1:
        raise RuleFileError(f"{where}: max_scope must be a positive whole number")
    regex = compile_checked(whole_words([expand_terms(str(pattern), terms, where)]), where)
    return Modifier(literal, regex, str(category or direction), str(direction), max_scope)


def _names(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise RuleFileError(f"{where}: '{key}' must be a list of non-empty texts")
    return value


def _required(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RuleFileError(f"{where}: '{key}' must be a non-empty text")
    return value


def _level(value: object, where: str) -> RiskLevel:
    if value not in ("low", "moderate", "high"):
        raise RuleFileError(f"{where}: level must be low, moderate or high")
    return RiskLevel.parse(str(value))


class _Sentence:
    """One sentence (or clause) of a normalised text, its tokens, and where concepts and cues are."""

    def __init__(self, book: FrameBook, text: str, offset: int, present: set[str] | Presence | None = None) -> None:
        self.present: set[str] | Presence = set(book.concepts) if present is None else present
        self.text = text
        self.offset = offset
        self.book = book
        self.token_starts = [match.start() for match in _TOKEN.finditer(text)]
        self._concepts: dict[str, list[_Span]] = {}
        self._cues: list[tuple[Modifier, _Span]] | None = None

    def _span(self, start: int, end: int) -> _Span:
        import bisect

        first = bisect.bisect_right(self.token_starts, start) - 1
        last = bisect.bisect_left(self.token_starts, end)
        return _Span(max(first, 0), max(last, first + 1))

    def concept(self, name: str) -> list[_Span]:
        if name not in self._concepts:
            if name not in self.present:
                self._concepts[name] = []
            else:
                regex = self.book.concepts[name]
                self._concepts[name] = [self._span(m.start(), m.end()) for m in regex.finditer(self.text)]
        return self._concepts[name]

    def cues(self) -> list[tuple[Modifier, _Span]]:
        if self._cues is None:
            found = [
                (modifier, self._span(m.start(), m.end()))
                for modifier in self.book.modifiers
                for m in modifier.regex.finditer(self.text)
            ]
            pseudo = [span for modifier, span in found if modifier.direction == "PSEUDO"]
            self._cues = [
                (modifier, span)
                for modifier, span in found
                if modifier.direction != "PSEUDO"
                and not any(p.start <= span.start and span.end <= p.end for p in pseudo)
            ]
        return self._cues


def find_frames(
    book: Any, normalized: NormalizedText, present: set[str] | Presence | None = None, notes: set[str] | None = None
) -> list[Evidence]:
    """Evidence for every frame of `book`'s language found in the normalised text."""
    framebook = FRAMEBOOKS.get(getattr(book, "lang", ""))
    if framebook is None or not framebook.frames:
        return []
    idioms = getattr(getattr(book, "context", None), "ignored", None)
    return frames_in(framebook, normalized, idioms, present, notes)


def frames_in(
    book: FrameBook,
    normalized: NormalizedText,
    idioms: re.Pattern[str] | None = None,
    present: set[str] | Presence | None = None,
    notes: set[str] | None = None,
) -> list[Evidence]:
    """Frames found in the text; none that overlaps an idiom or topic of the rule file (`idioms`).
    `present`: the concepts of the text, when the caller has already found them. `notes` receives
    "cleared" when a frame's words were there but its context (a cue, an ordinary use, an idiom)
    said they do not count."""
    found: list[Evidence] = []
    ignored: list[tuple[int, int]] | None = None
    text = normalized.text
    if present is None:
        present = book.presence(text)
    units: dict[str, list[_Sentence]] = {}
    lazy = present if isinstance(present, Presence) else None
    for frame, needed in zip(book.frames, book.frame_concepts, strict=True):
        if lazy is not None and not lazy.may_hold(needed):
            continue
        if not all(name in present for name in frame.concepts):
            continue
        if frame.scope not in units:
            if frame.scope == "message":
                units[frame.scope] = [_Sentence(book, text, 0, present)]
            else:
                pattern = _SENTENCE if frame.scope == "sentence" else _CLAUSE
                units[frame.scope] = [_Sentence(book, m.group(), m.start(), present) for m in pattern.finditer(text)]
        for sentence in units[frame.scope]:
            hit = _match(frame, sentence)
            if hit is None:
                if notes is not None and _unless_only(frame, sentence):
                    notes.add("cleared")
                continue
            level = _judge(frame, sentence, hit)
            if level is None:
                if notes is not None:
                    notes.add("cleared")
                continue
            start = sentence.offset + sentence.token_starts[hit.start]
            last = sentence.token_starts[hit.end - 1]
            end_match = _TOKEN.match(sentence.text, last)
            end = sentence.offset + (end_match.end() if end_match else last + 1)
            if ignored is None:
                ignored = [match.span() for match in idioms.finditer(text)] if idioms is not None else []
            if any(span_start < end and start < span_end for span_start, span_end in ignored):
                if notes is not None:
                    notes.add("cleared")
                continue
            found.append(Evidence(frame.id, frame.category, normalized.original_span(start, end), level))
            break  # one piece of evidence per frame and message is enough
    return found


def _unless_only(frame: Frame, sentence: _Sentence) -> bool:
    """The frame's concepts are all in the sentence, and only an `unless` concept stopped it."""
    return all(sentence.concept(name) for name in frame.concepts) and any(
        name in sentence.present and sentence.concept(name) for name in frame.unless
    )


def _match(frame: Frame, sentence: _Sentence) -> _Span | None:
    """The tightest span holding every concept of the frame, if within max_words; else None."""
    occurrences = [sentence.concept(name) for name in frame.concepts]
    if any(not spans for spans in occurrences):
        return None
    if any(name in sentence.present and sentence.concept(name) for name in frame.unless):
        return None
    best: _Span | None = None
    for anchor in occurrences[0]:
        start, end, last = anchor.start, anchor.end, anchor.start
        for spans in occurrences[1:]:
            nearest = min(spans, key=lambda s, a=anchor: abs(s.start - a.start))  # type: ignore[misc]
            start, end, last = min(start, nearest.start), max(end, nearest.end), max(last, nearest.start)
        if best is None or end - start < best.end - best.start:
            best = _Span(start, end, last)
    if best is None or best.end - best.start > frame.max_words:
        return None
    return best


def _judge(frame: Frame, sentence: _Sentence, hit: _Span) -> RiskLevel | None:
    """The level the frame supports once its context cues are read, or None when it does not count."""
    historical = recent = False
    cues = sentence.cues()
    terminators = [span for modifier, span in cues if modifier.direction == "TERMINATE"]
    persons = sentence.concept(sentence.book.first_person)
    for modifier, span in cues:
        if modifier.direction == "TERMINATE" or modifier.category in frame.ignore:
            continue
        if not _in_scope(modifier, span, hit, terminators):
            continue
        if modifier.category == "OTHER_EXPERIENCER" and _first_person_between(persons, span, hit):
            continue
        if modifier.category in _DROPPING:
            return None
        if modifier.category == "HISTORICAL":
            historical = True
        elif modifier.category == "RECENT":
            recent = True
    if historical and not recent and frame.history_level is not None:
        return frame.history_level
    return frame.level


def _in_scope(modifier: Modifier, cue: _Span, hit: _Span, terminators: Sequence[_Span]) -> bool:
    forward = modifier.direction in ("FORWARD", "BIDIRECTIONAL")
    backward = modifier.direction in ("BACKWARD", "BIDIRECTIONAL")
    before = cue.end <= hit.start if modifier.category == "OTHER_EXPERIENCER" else cue.end <= hit.last
    # Forward: the cue comes before the frame's last concept (inside the frame or before it), close
    # enough; someone else must be named before the frame starts. No terminator in between.
    if (
        forward
        and before
        and hit.start - cue.end <= modifier.max_scope
        and not any(cue.end <= t.start and t.end <= hit.start for t in terminators)
    ):
        return True
    return (
        backward
        and cue.start >= hit.end
        and cue.start - hit.end <= modifier.max_scope
        and not any(hit.end <= t.start and t.end <= cue.start for t in terminators)
    )


def _first_person_between(persons: Sequence[_Span], cue: _Span, hit: _Span) -> bool:
    """ "I told my mum I bought pills": the client speaks again after the other person is named."""
    return any(cue.end <= person.start < hit.end for person in persons)


def concepts_present(lang: str, text: str) -> set[str]:
    """The names of the concepts of `lang` found in a normalised text (features for the model)."""
    book = FRAMEBOOKS.get(lang)
    if book is None:
        return set()
    return book.present(text)


def _load_all() -> dict[str, FrameBook]:
    books = {}
    for lang in ("en", "fr"):
        path = RULES_DIR / f"{lang}.toml"
        if path.exists():
            books[lang] = load_framebook(path)
    return books


FRAMEBOOKS: dict[str, FrameBook] = _load_all()
