"""Whether a phrase that matched really speaks of the client's own risk, judged from its context.

Keyword lists fail on idioms, negation, reported speech about others, accidents and wishes
mistaken for acts (shared/clinical.md). The logic here is the same for every language; the words
it looks for come from the language's rule file.
"""

from __future__ import annotations

import bisect
import re

from service.risk.levels import RiskLevel
from service.risk.rulebook import LanguageContext, Rule

_SENTENCE_END = re.compile(r"[.!?;\n]")
# Anything that is not a letter, digit, apostrophe, masking star or space ends a clause: commas,
# colons, brackets, quotes, emoji.
_CLAUSE_END = re.compile(r"[^a-z0-9' *]")
_TOKEN = re.compile(r"[a-z0-9*]+(?:'[a-z0-9]+)*'?")


class MessageContext:
    """One normalised message, with its sentences and ignored spans worked out once, when first needed."""

    def __init__(self, text: str, context: LanguageContext, idioms_possible: bool = True) -> None:
        self.text = text
        self.context = context
        self._idioms_possible = idioms_possible
        self._sentence_ends: list[int] | None = None
        self._ignored: list[tuple[int, int]] | None = None

    def level_for(self, rule: Rule, start: int, end: int) -> RiskLevel | None:
        """The level this match supports, or None when its context shows it does not count."""
        if self._inside_ignored(start, end):
            return None
        sentence_start, sentence_end = self._sentence(start, end)
        sentence = self.text[sentence_start:sentence_end]
        clause = self._clause_before(sentence_start, start, end)
        context = self.context
        if rule.negatable and (
            self._negated(clause)
            or self._denied_after(end, sentence_end)
            or self._question_denied(self.text[sentence_start:start], sentence_end)
        ):
            return None
        if rule.check_subject and self._about_someone_else(clause):
            return None
        if rule.realis and _has(context.irrealis, clause):
            return None
        if _has(rule.exclusions, sentence) and not _has(context.intentional, sentence):
            return None
        if rule.history_level is not None and _has(context.history, sentence):
            return rule.level if _has(context.recency, sentence) else rule.history_level
        return rule.level

    def _inside_ignored(self, start: int, end: int) -> bool:
        if self._ignored is None:
            self._ignored = self._find_ignored()
        return any(span_start < end and start < span_end for span_start, span_end in self._ignored)

    def _find_ignored(self) -> list[tuple[int, int]]:
        pattern = self.context.ignored
        if pattern is None or not self._idioms_possible:
            return []
        return [match.span() for match in pattern.finditer(self.text)]

    def _sentence(self, start: int, end: int) -> tuple[int, int]:
        if self._sentence_ends is None:
            self._sentence_ends = [match.start() for match in _SENTENCE_END.finditer(self.text)]
        ends = self._sentence_ends
        before = bisect.bisect_left(ends, start)
        sentence_start = ends[before - 1] + 1 if before else 0
        after = bisect.bisect_left(ends, end)
        sentence_end = ends[after] if after < len(ends) else len(self.text)
        return sentence_start, sentence_end

    def _clause_before(self, sentence_start: int, start: int, end: int) -> str:
        """The words between the start of the match's clause and the match.

        Look-alike negations are blanked out first, over the match too: in « je ne pense qu'à
        mourir » the "ne" belongs to "ne ... qu'" (only), which ends inside the match.
        """
        prefix = self.text[sentence_start:start]
        clause_start = sentence_start + _last_end(_CLAUSE_END, prefix)
        context = self.context
        words = self.text[clause_start:end]
        if context.pseudo_negations is not None:
            words = context.pseudo_negations.sub(lambda match: " " * len(match.group()), words)
        prefix = words[: start - clause_start]
        if context.scope_breakers is not None:
            prefix = prefix[_last_end(context.scope_breakers, prefix) :]
        return prefix

    def _negated(self, clause: str) -> bool:
        context = self.context
        for token in _TOKEN.findall(clause)[-context.negation_window :]:
            if token in context.negators:
                return True
            if any(token.startswith(prefix) for prefix in context.negator_prefixes):
                return True
            if any(token.endswith(suffix) for suffix in context.negator_suffixes):
                return True
        return False

    def _denied_after(self, end: int, sentence_end: int) -> bool:
        post = self.context.post_negations
        return post is not None and post.match(self.text, end, sentence_end) is not None

    def _question_denied(self, before: str, sentence_end: int) -> bool:
        """A relayed question answered no: "She asked if I'd had thoughts of suicide. I haven't."."""
        context = self.context
        if context.reported_questions is None or context.denial_answers is None:
            return False
        if not context.reported_questions.search(before):
            return False
        ends = self._sentence_ends or []
        after = bisect.bisect_right(ends, sentence_end)
        next_end = ends[after] if after < len(ends) else len(self.text)
        return context.denial_answers.fullmatch(self.text, sentence_end + 1, next_end) is not None

    def _about_someone_else(self, clause: str) -> bool:
        """True when the nearest person named before the match is someone else, as a subject.

        "My brother attempted suicide" is about the brother; "I told my mum about my suicidal
        thoughts" is about the client: a person right after a preposition or a verb of telling is
        an object, not the one the clause is about.
        """
        objects = self.context.object_markers
        last_other = -1
        for match in self.context.third_person.finditer(clause):
            before = _TOKEN.findall(clause, 0, match.start())
            if not before or before[-1] not in objects:
                last_other = match.end()
        if last_other < 0:
            return False
        return last_other > _last_end(self.context.first_person, clause)


def _last_end(pattern: re.Pattern[str], text: str) -> int:
    """Where the last match of `pattern` in `text` ends; 0 when there is none."""
    end = 0
    for match in pattern.finditer(text):
        end = match.end()
    return end


def _has(pattern: re.Pattern[str] | None, text: str) -> bool:
    return pattern is not None and pattern.search(text) is not None
