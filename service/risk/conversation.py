"""Screening a whole exchange: a client's recent messages read together, oldest first.

Each message is screened on its own (rules, frames, model), then the exchange is read as a whole,
with the settings of the `[conversation]` table of the language's rule file:

- an alarming short message that one of the next messages explains ("Bought the rope today." /
  "For the boat!") does not count, as long as the explaining message says nothing of concern itself;
- warning signs spread over several messages add up (a goodbye in one, a date in another, means set
  aside in a third): when signs of at least `min_groups` groups, one of them a core group (ideation,
  means, plan, finality), appear in at least two messages, the exchange is high risk;
- every piece of evidence names its message (`message`: 0 is the oldest).

The function is pure; callers gather the messages (a guided-session transcript, the check-in notes
and questionnaire free text of the last 72 hours) and raise the alert.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence, Set
from dataclasses import dataclass

from service.errors import Invalid
from service.risk.frames import FRAMEBOOKS, FrameBook
from service.risk.levels import Evidence, RiskLevel, RiskResult
from service.risk.normalize import NormalizedText, normalize
from service.risk.rulebook import RULEBOOKS
from service.risk.text import rulebooks_for, screen_text
from service.risk.version import RULES_DIR

_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"\s*[^.!?;\n]*")


@dataclass(frozen=True, slots=True)
class ConversationSettings:
    explain_window: int
    explain_max_words: int
    explain_fragment_words: int
    strong_clarifying: tuple[str, ...]
    clarifying: tuple[str, ...]
    signs: dict[str, str]  # concept -> group
    min_groups: int
    core_groups: frozenset[str]


def _settings(lang: str) -> ConversationSettings | None:
    path = RULES_DIR / f"{lang}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8")).get("conversation")
    if not data:
        return None
    book = FRAMEBOOKS.get(lang)
    known = set(book.concepts) if book else set()
    signs = {str(key): str(value) for key, value in data.get("signs", {}).items()}
    clarifying = tuple(str(name) for name in data.get("clarifying", []))
    strong = tuple(str(name) for name in data.get("strong_clarifying", []))
    unknown = (set(signs) | set(clarifying) | set(strong)) - known
    if unknown:
        raise ValueError(f"{path.name} [conversation]: unknown concepts {sorted(unknown)}")
    return ConversationSettings(
        explain_window=int(data.get("explain_window", 2)),
        explain_max_words=int(data.get("explain_max_words", 14)),
        explain_fragment_words=int(data.get("explain_fragment_words", 4)),
        strong_clarifying=strong,
        clarifying=clarifying,
        signs=signs,
        min_groups=int(data.get("min_groups", 2)),
        core_groups=frozenset(str(group) for group in data.get("core_groups", [])),
    )


SETTINGS: dict[str, ConversationSettings] = {
    lang: settings for lang in RULEBOOKS if (settings := _settings(lang)) is not None
}


def screen_conversation(messages: Sequence[str], lang: str) -> RiskResult:
    """One result for the exchange; each piece of evidence names its message (0 = the oldest)."""
    if isinstance(messages, str) or not isinstance(messages, Sequence):
        raise Invalid("A conversation is a list of messages (texts).")
    if not all(isinstance(message, str) for message in messages):
        raise Invalid("Every message of a conversation must be a text.")
    results = [screen_text(message, lang) for message in messages]
    # What the model makes of each message with its gate open: a sign among others, never a level alone.
    learned = [
        result if result.level is not RiskLevel.NONE else screen_text(message, lang, gate=False)
        for message, result in zip(messages, results, strict=True)
    ]
    evidence: list[Evidence] = []
    for book in rulebooks_for(lang):
        settings = SETTINGS.get(book.lang)
        framebook = FRAMEBOOKS.get(book.lang)
        if settings is None or framebook is None:
            continue
        normalized = [normalize(message, book.speller) for message in messages]
        concepts = [_concepts(framebook, text) for text in normalized]
        explained, explaining = _explained(results, normalized, concepts, settings)
        kept = [
            item.in_message(index)
            for index, result in enumerate(results)
            if index not in explained
            for item in result.evidence
        ]
        evidence.extend(kept)
        evidence.extend(
            _accumulated(book.lang, results, learned, explained, normalized, concepts, settings, explaining)
        )
    if not any(SETTINGS.get(book.lang) for book in rulebooks_for(lang)):
        evidence = [item.in_message(index) for index, result in enumerate(results) for item in result.evidence]
    return RiskResult.from_evidence(evidence)


def _concepts(book: FrameBook, text: NormalizedText) -> dict[str, tuple[int, int]]:
    """The concepts present in a message, each with the span of its first occurrence."""
    found = {}
    for name, regex in book.concepts.items():
        match = regex.search(text.text)
        if match is not None:
            found[name] = match.span()
    return found


def _explained(
    results: Sequence[RiskResult],
    normalized: Sequence[NormalizedText],
    concepts: Sequence[dict[str, tuple[int, int]]],
    settings: ConversationSettings,
) -> tuple[set[int], set[int]]:
    """The alarming messages a later one explains away, and the messages that explain them."""
    explained: set[int] = set()
    explaining: set[int] = set()
    for index, result in enumerate(results):
        if result.level is RiskLevel.NONE or len(_WORD.findall(normalized[index].text)) > settings.explain_max_words:
            continue
        for later in range(index + 1, min(index + 1 + settings.explain_window, len(results))):
            if results[later].level is not RiskLevel.NONE:
                break  # the next message is of concern itself: nothing is explained
            if any(name in concepts[later] for name in settings.strong_clarifying):
                explained.add(index)
                explaining.add(later)
                break
            first = _SENTENCE.match(normalized[later].text)
            fragment = first is not None and len(_WORD.findall(first.group())) <= settings.explain_fragment_words
            if later == index + 1 and fragment and any(name in concepts[later] for name in settings.clarifying):
                explained.add(index)
                explaining.add(later)
                break
    return explained, explaining


def _accumulated(
    lang: str,
    results: Sequence[RiskResult],
    learned: Sequence[RiskResult],
    explained: set[int],
    normalized: Sequence[NormalizedText],
    concepts: Sequence[dict[str, tuple[int, int]]],
    settings: ConversationSettings,
    explaining: Set[int] = frozenset(),
) -> list[Evidence]:
    """High-risk evidence when warning signs of several groups are spread over several messages. A
    message that explains an earlier one away is not read by the model (it echoes the words it
    explains: « dans un bon livre » after « disparaître »)."""
    signs: list[tuple[int, str, str]] = []  # (message, group, words)
    for index, present in enumerate(concepts):
        if index in explained:
            continue
        for name, (start, end) in present.items():
            group = settings.signs.get(name)
            if group is not None:
                signs.append((index, group, normalized[index].original_span(start, end)))
        if results[index].level >= RiskLevel.LOW and not any(
            group == "ideation" for i, group, _ in signs if i == index
        ):
            words = results[index].evidence[0].text if results[index].evidence else ""
            signs.append((index, "ideation", words))
        elif (
            results[index].level is RiskLevel.NONE and index not in explaining and learned[index].level >= RiskLevel.LOW
        ):
            words = ", ".join(item.text for item in learned[index].evidence[:3])
            signs.append((index, "learned", words))
    groups = {group for _, group, _ in signs}
    messages = {index for index, _, _ in signs}
    # Signs in one message alone are the single-message screen's job: at least two messages.
    if len(groups) < settings.min_groups or len(messages) < 2 or not groups & settings.core_groups:
        return []
    seen: set[tuple[int, str]] = set()
    found: list[Evidence] = []
    for index, group, words in signs:
        if (index, group) in seen:
            continue
        seen.add((index, group))
        found.append(Evidence(f"{lang}.conversation.{group}", "conversation", words, RiskLevel.HIGH, index))
    return found


def signs_in(message: str, lang: str) -> frozenset[str]:
    """The groups of warning signs one message brings to an exchange (the `[conversation.signs]`
    groups; "ideation" when the message alone screens low or above; "learned" when only the model
    without its gate would raise it). Empty: adding this message to an exchange adds nothing up, so a
    caller may skip reading the earlier messages."""
    if not isinstance(message, str):
        raise Invalid("The text to screen must be a string.")
    found: set[str] = set()
    if screen_text(message, lang).level >= RiskLevel.LOW:
        found.add("ideation")
    elif screen_text(message, lang, gate=False).level >= RiskLevel.LOW:
        found.add("learned")
    for book in rulebooks_for(lang):
        settings = SETTINGS.get(book.lang)
        framebook = FRAMEBOOKS.get(book.lang)
        if settings is None or framebook is None:
            continue
        present = _concepts(framebook, normalize(message, book.speller))
        found.update(settings.signs[name] for name in present if name in settings.signs)
    return frozenset(found)
