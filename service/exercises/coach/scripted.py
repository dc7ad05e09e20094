"""The scripted coach: deterministic, offline, and the keeper of every exercise's state.

Each client message is read as the answer to the current step (``parse_answer``). A usable answer
is stored, reflected back in the client's own words and followed by the next prompt; anything else
is asked again. All wording comes from the catalog and ``data/texts.toml``. The LLM engine reuses
this engine for state and only rephrases the acknowledgement.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from service.exercises.answers import format_answer, join_words, number_readings, parse_answer
from service.exercises.catalog import (
    AnswerValue,
    Comparison,
    Exercise,
    Localized,
    Step,
    StepKind,
)
from service.exercises.coach.classify import TurnKind, classify, clock_times, reframes, strip_label
from service.exercises.coach.engine import CoachContext, CoachReply
from service.exercises.coach.reflect import second_person
from service.exercises.coach.texts import coach_texts, paragraphs, render
from service.exercises.coach.traps import ThinkingTrap, detect_traps
from service.kit.text import fold

# Client text quoted back is cut to this length: enough to recognise, short enough to read.
QUOTE_CHARS = 160
_QUOTED_KINDS = (StepKind.TEXT, StepKind.MULTI_TEXT, StepKind.EMOTION_RATINGS)
_RATING_KINDS = (StepKind.SCALE, StepKind.EMOTION_RATINGS)
# A message of this many words or more, at a rating, is a sentence that may answer the next question.
_SENTENCE_WORDS = 4


@dataclasses.dataclass(frozen=True)
class ScriptedTurn:
    """One reply of the scripted coach, in two parts: the acknowledgement of what the client wrote
    (which an LLM may rephrase) and the guidance that follows (prompt, re-ask or closing, always
    from the data files)."""

    acknowledgement: str
    guidance: str
    step_index: int
    answers: dict[str, AnswerValue]
    done: bool
    # "accepted": the answer was stored; "reask": it could not be used; "waiting": the client is not
    # ready for the step yet; "presented": info steps were shown; "finished": nothing left to do.
    outcome: str
    traps: list[str] = dataclasses.field(default_factory=list)
    paused: bool = False
    turn: str = "answer"
    note: str | None = None

    def as_reply(
        self, engine: str, *, acknowledgement: str | None = None, fallback_reason: str | None = None
    ) -> CoachReply:
        ack = self.acknowledgement if acknowledgement is None else acknowledgement
        return CoachReply(
            message=paragraphs(ack, self.guidance),
            step_index=self.step_index,
            answers=dict(self.answers),
            done=self.done,
            engine=engine,
            fallback_reason=fallback_reason,
            traps=list(self.traps),
            paused=self.paused,
            turn=self.turn,
            note=self.note,
        )


class ScriptedCoach:
    name = "scripted"

    def opening(self, ctx: CoachContext) -> CoachReply:
        texts = coach_texts(ctx.lang)
        name = (ctx.first_name or "").strip()
        greeting = render(texts["greeting_named"], {"first_name": name}) if name else texts["greeting"]
        resumed = ctx.step_index > 0 or bool(ctx.answers)
        # The disclosure is said once per session, short: not again when the client comes back to it.
        disclosure = "" if resumed else " " + render(texts["disclosure_short"], {"emergency": _emergency(ctx, texts)})
        parts = [greeting + disclosure]
        if ctx.done:
            turn = self._finished(ctx)
            return dataclasses.replace(turn, guidance=paragraphs(*parts, turn.guidance)).as_reply(self.name)
        exercise = ctx.exercise
        if resumed:
            parts.append(texts["resume"])
        else:
            parts.append(
                render(
                    texts["intro"],
                    {
                        "title": exercise.title.text(ctx.lang),
                        "minutes": str(exercise.minutes),
                        "description": exercise.description.text(ctx.lang),
                    },
                )
            )
        if ctx.instructions and ctx.instructions.strip():
            parts.append(render(texts["instructions"], {"instructions": ctx.instructions.strip()}))
        shown, index, done = self._present(exercise, ctx.answers, ctx.lang, ctx.step_index)
        return CoachReply(
            message=paragraphs(*parts, *shown),
            step_index=index,
            answers=dict(ctx.answers),
            done=done,
            engine=self.name,
        )

    def reply(self, ctx: CoachContext, message: str) -> CoachReply:
        return self.turn(ctx, message).as_reply(self.name)

    def turn(self, ctx: CoachContext, message: str) -> ScriptedTurn:
        step = ctx.current_step
        if step is None:
            return self._finished(ctx)
        if step.kind is StepKind.INFO:
            # The caller skipped the opening: show the information and carry on.
            shown, index, done = self._present(ctx.exercise, ctx.answers, ctx.lang, ctx.step_index)
            return ScriptedTurn("", paragraphs(*shown), index, dict(ctx.answers), done, "presented")
        kind = classify(step, message, ctx.lang, ctx.risk_level)
        texts = coach_texts(ctx.lang)
        timer_ahead = step.kind is StepKind.SCALE and any(
            s.kind is StepKind.TIMER for s in ctx.exercise.steps[ctx.step_index :]
        )
        if kind in (TurnKind.READY, TurnKind.ROUND_DONE) and step.kind is StepKind.SCALE and not timer_ahead:
            kind = TurnKind.ANSWER
        if kind is TurnKind.ANSWER and self._answers_next(ctx, step, message):
            # A rating left out for the next question's answer ("I see the sofa, the TV, the cat..."):
            # the rating is skipped, and the answer goes to the step it answers.
            skipped = self._accept(ctx, step, None)
            later = dataclasses.replace(ctx, step_index=skipped.step_index, answers=skipped.answers)
            nxt = later.current_step
            assert nxt is not None
            return self._answer(later, nxt, strip_label(message, ctx.lang), kind)
        if kind is TurnKind.ANSWER and (both := self._two_ratings(ctx, step, message)) is not None:
            return both
        if kind is TurnKind.ANSWER and (left_out := self._rating_left_out(ctx, step, message)) is not None:
            return left_out
        if kind is TurnKind.ANSWER:
            return self._answer(ctx, step, strip_label(message, ctx.lang), kind)
        if kind in (TurnKind.READY, TurnKind.ROUND_DONE) and timer_ahead:
            # "ok ready" (or "did one") before the breathing: the rating can wait, the client wants to start.
            turn = self._accept(ctx, step, None)
            turn = dataclasses.replace(turn, acknowledgement=texts["skip_rating"], turn=str(kind))
            if kind is TurnKind.READY:
                return turn
            timer = ctx.exercise.steps[turn.step_index]
            later = dataclasses.replace(ctx, step_index=turn.step_index, answers=turn.answers)
            return self._round_done(later, timer, message)
        if kind is TurnKind.STOP:
            return self._stay(ctx, kind, texts["stop"], prompt=False, paused=True)
        if kind is TurnKind.SKIP:
            turn = self._accept(ctx, step, None)
            return dataclasses.replace(turn, acknowledgement=texts["skip"], turn=str(kind))
        if kind is TurnKind.ROUND_DONE:
            return self._round_done(ctx, step, message)
        if kind is TurnKind.DONT_KNOW:
            helptext = step.help.text(ctx.lang) if step.help else ""
            words = render(texts["dont_know"], {"help": helptext, "example": _example(step, ctx.lang)})
            return self._stay(ctx, kind, words, prompt=False)
        simple = {
            TurnKind.DISCLOSURE: ("disclosure_low", False),
            TurnKind.MEDICATION: ("medication", True),
            TurnKind.AUTOMATED: ("automated", True),
            TurnKind.OFF_TOPIC: ("off_topic", True),
            TurnKind.HOSTILE: ("hostile", True),
            TurnKind.FILLER: ("filler", True),
            TurnKind.GO_ON: ("go_on", True),
            TurnKind.ROUND_NOT_DONE: ("round_not_counted", False),
            TurnKind.READY: ("ready", False),
        }
        if kind is TurnKind.QUESTION:
            helptext = step.help.text(ctx.lang) if step.help else ""
            return self._stay(ctx, kind, helptext, prompt=True)
        key, with_prompt = simple[kind]
        turn = self._stay(ctx, kind, texts[key], prompt=with_prompt)
        if kind is TurnKind.MEDICATION:
            turn = dataclasses.replace(turn, note="medication_question")
        return turn

    def _answers_next(self, ctx: CoachContext, step: Step, message: str) -> bool:
        """Whether a message at a rating step, with no number in it, is a list the next step asks for."""
        if step.kind is not StepKind.SCALE or re.search(r"\d", message):
            return False
        later = [s for s in ctx.exercise.steps[ctx.step_index + 1 :] if s.kind is not StepKind.INFO]
        if not later or later[0].kind is not StepKind.MULTI_TEXT:
            return False
        return parse_answer(later[0], message, ctx.lang).ok

    def _two_ratings(self, ctx: CoachContext, step: Step, message: str) -> ScriptedTurn | None:
        """ "mastery 6, pleasure 4" at the first of two ratings in a row: both are stored, matched by
        the words the client used for them, else in the order asked."""
        steps = ctx.exercise.steps
        after = ctx.step_index + 1
        if step.kind is not StepKind.SCALE or after >= len(steps) or steps[after].kind is not StepKind.SCALE:
            return None
        second = steps[after]
        readings = number_readings(step, message, ctx.lang)
        if len(readings) != 2:
            return None
        values = [readings[0][1], readings[1][1]]
        folded = fold(message)
        named_first, named_second = _named_at(step, folded), _named_at(second, folded)
        if named_first is not None and named_second is not None and named_second < named_first:
            values.reverse()
        if not (_in_range(step, values[0]) and _in_range(second, values[1])):
            return None
        first = self._accept(ctx, step, _whole(values[0]))
        later = dataclasses.replace(ctx, step_index=first.step_index, answers=first.answers)
        if later.current_step is not second:
            return None
        turn = self._accept(later, second, _whole(values[1]))
        return dataclasses.replace(turn, acknowledgement=paragraphs(first.acknowledgement, turn.acknowledgement))

    def _rating_left_out(self, ctx: CoachContext, step: Step, message: str) -> ScriptedTurn | None:
        """A rating is asked again once, not over and over: at the second try with still no number, it
        is left out. A sentence that answers the next question is taken as that answer. A time of day
        ("18h", "6pm") is no rating either: it answers the next question (when the worry time is)."""
        if step.kind not in _RATING_KINDS:
            return None
        rating: int | float | None = None
        ahead = [s for s in ctx.exercise.steps[ctx.step_index + 1 :] if s.kind is not StepKind.INFO]
        asks_time = step.kind is StepKind.SCALE and bool(ahead) and ahead[0].kind is StepKind.TEXT
        times = clock_times(message, ctx.lang) if asks_time else []
        if times:
            others = [v for at, v in number_readings(step, message, ctx.lang) if not any(a <= at < b for a, b in times)]
            if len(others) > 1 or (others and not _in_range(step, others[0])):
                return None
            rating = _whole(others[0]) if others else None
        elif ctx.tries < 1 or number_readings(step, message, ctx.lang) or parse_answer(step, message, ctx.lang).ok:
            return None
        texts = coach_texts(ctx.lang)
        turn = self._accept(ctx, step, rating)
        if rating is None:
            turn = dataclasses.replace(turn, acknowledgement=texts["rating_left_out"], turn="rating_left_out")
        later = dataclasses.replace(ctx, step_index=turn.step_index, answers=turn.answers, tries=0)
        nxt = later.current_step
        if nxt is None or nxt.kind not in _QUOTED_KINDS or (len(message.split()) < _SENTENCE_WORDS and not times):
            return turn
        if not parse_answer(nxt, strip_label(message, ctx.lang), ctx.lang).ok:
            return turn
        answered = self._answer(later, nxt, strip_label(message, ctx.lang), TurnKind.ANSWER)
        if answered.outcome != "accepted":
            return turn
        return dataclasses.replace(answered, acknowledgement=paragraphs(turn.acknowledgement, answered.acknowledgement))

    def _stay(
        self, ctx: CoachContext, kind: TurnKind, words: str, *, prompt: bool, paused: bool = False
    ) -> ScriptedTurn:
        guidance = paragraphs(words, self.prompt(ctx)) if prompt else words
        return ScriptedTurn(
            "", guidance, ctx.step_index, dict(ctx.answers), False, "reask", paused=paused, turn=str(kind)
        )

    def _answer(self, ctx: CoachContext, step: Step, message: str, kind: TurnKind) -> ScriptedTurn:
        result = parse_answer(step, message, ctx.lang)
        if not result.ok and result.problem == "list_too_few" and ctx.tries >= 1:
            # Asked for more once already: what the client found is enough to go on with.
            fewer = dataclasses.replace(step, validation=dataclasses.replace(step.validation, min_items=1))
            partial = parse_answer(fewer, message, ctx.lang)
            if partial.ok:
                turn = self._accept(ctx, step, partial.value)
                ack = paragraphs(coach_texts(ctx.lang)["list_enough"], turn.acknowledgement)
                return dataclasses.replace(turn, acknowledgement=ack)
        if not result.ok:
            guidance = _reflect_quotes(result.reask or "", ctx.lang)
            if result.problem == "help":
                guidance = paragraphs(guidance, self.prompt(ctx))
            return ScriptedTurn("", guidance, ctx.step_index, dict(ctx.answers), False, "reask")
        if step.kind is StepKind.CONFIRM and step.wait_message and result.value is False:
            waiting = _fill(step.wait_message, ctx.exercise, ctx.answers, ctx.lang, step)
            return ScriptedTurn("", waiting, ctx.step_index, dict(ctx.answers), False, "waiting")
        if step.kind is StepKind.TIMER:
            if not re.search(r"\d", message):
                # Neither "done" nor a number of breaths: the round is not counted yet.
                words = coach_texts(ctx.lang)["round_not_counted"]
                return self._stay(ctx, TurnKind.ROUND_NOT_DONE, words, prompt=False)
            return self._round_done(ctx, step, message)
        if (
            step.kind is StepKind.TEXT
            and not step.detect_traps
            and _challenges(ctx, step)
            and isinstance(result.value, str)
        ):
            # Only phrases of two words or more: "always" alone in an answer that weighs the thought is no trap.
            traps = [] if reframes(result.value, ctx.lang) else detect_traps(result.value, ctx.lang, min_words=2)
            if traps:
                # A trap in the answer that should weigh it: name it and ask, before moving on.
                note = paragraphs(_trap_note(traps, ctx.lang), coach_texts(ctx.lang)["trap_stay"])
                return ScriptedTurn(
                    "", note, ctx.step_index, dict(ctx.answers), False, "reask", [t.code for t in traps]
                )
        return self._accept(ctx, step, result.value)

    def _round_done(self, ctx: CoachContext, step: Step, message: str) -> ScriptedTurn:
        """One breathing round, counted because the client said it was done."""
        texts = coach_texts(ctx.lang)
        assert step.field is not None
        parsed = parse_answer(step, message, ctx.lang)  # "did 4" records the cycles actually done
        previous = ctx.answers.get(step.field)
        done = int(previous.get("rounds_done", 0)) + 1 if isinstance(previous, dict) else 1
        value = {**(parsed.value if isinstance(parsed.value, dict) else {}), "rounds_done": done}
        # A breathing step is the catalog's rounds of cycles, each counted only when the client says it is done.
        rounds = step.breathing.rounds if step.breathing else 1
        counted = render(texts["round_counted"], {"done": str(done), "total": str(rounds)})
        if done < rounds:
            answers = {**ctx.answers, step.field: value}
            return ScriptedTurn(
                counted, texts["round_next"], ctx.step_index, answers, False, "accepted", turn="round_done"
            )
        turn = self._accept(ctx, step, value)
        return dataclasses.replace(turn, acknowledgement=paragraphs(counted, turn.acknowledgement))

    def prompt(self, ctx: CoachContext) -> str:
        """The current step's prompt, filled with the answers so far ("" once the exercise is done)."""
        step = ctx.current_step
        return _fill(step.prompt, ctx.exercise, ctx.answers, ctx.lang, step) if step else ""

    def _accept(self, ctx: CoachContext, step: Step, value: AnswerValue) -> ScriptedTurn:
        assert step.field is not None  # only info steps have no field, and they are never answered
        answers = {**ctx.answers, step.field: value}
        ack = (
            _fill(step.reflection, ctx.exercise, answers, ctx.lang, step)
            if step.reflection and value is not None
            else ""
        )
        ack = _varied(ack, ctx.step_index, ctx.lang)
        traps = detect_traps(value, ctx.lang) if step.detect_traps and isinstance(value, str) else []
        shown, index, done = self._present(ctx.exercise, answers, ctx.lang, ctx.step_index + 1)
        guidance = paragraphs(_trap_note(traps, ctx.lang), *shown)
        return ScriptedTurn(ack, guidance, index, answers, done, "accepted", [t.code for t in traps])

    def _finished(self, ctx: CoachContext) -> ScriptedTurn:
        texts = coach_texts(ctx.lang)
        return ScriptedTurn("", texts["already_done"], len(ctx.exercise.steps), dict(ctx.answers), True, "finished")

    def _present(
        self, exercise: Exercise, answers: Mapping[str, AnswerValue], lang: str, index: int
    ) -> tuple[list[str], int, bool]:
        """Show info steps from ``index`` on, then the next prompt, or the closing summary at the end."""
        steps = exercise.steps
        shown = []
        while index < len(steps) and steps[index].kind is StepKind.INFO:
            shown.append(_fill(steps[index].prompt, exercise, answers, lang, steps[index]))
            index += 1
        if index >= len(steps):
            shown.append(_fill(exercise.closing, exercise, answers, lang, None))
            return shown, len(steps), True
        shown.append(_fill(steps[index].prompt, exercise, answers, lang, steps[index]))
        return shown, index, False


# ---------------------------------------------------------------- filling texts with answers


def _fill(
    template: Localized, exercise: Exercise, answers: Mapping[str, AnswerValue], lang: str, step: Step | None
) -> str:
    return render(template.text(lang), _values(exercise, answers, lang, step))


def _values(exercise: Exercise, answers: Mapping[str, AnswerValue], lang: str, step: Step | None) -> dict[str, str]:
    values = {}
    for s in exercise.steps:
        if s.field and s.field in answers:
            values[s.field] = _display(s, answers[s.field], lang)
    for comparison in exercise.comparisons:
        values[comparison.name] = _compare(exercise, comparison, answers, lang)
    if step is not None and step.breathing is not None:
        pattern = step.breathing
        values.update(
            inhale=str(pattern.inhale_seconds),
            hold=str(pattern.hold_seconds),
            exhale=str(pattern.exhale_seconds),
            cycles=str(pattern.cycles),
            rounds=str(pattern.rounds),
        )
    return values


def _display(step: Step, value: AnswerValue, lang: str) -> str:
    text = format_answer(step, value, lang)
    own_words = step.kind is StepKind.CHOICE and isinstance(value, str) and value not in {o.value for o in step.options}
    if (step.kind in _QUOTED_KINDS or own_words) and value is not None:
        # The sentence around the quote brings its own full stop.
        return render(coach_texts(lang)["quote"], {"text": second_person(_shorten(text).rstrip(". "), lang)})
    return text


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= QUOTE_CHARS:
        return flat
    return flat[:QUOTE_CHARS].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def _compare(exercise: Exercise, comparison: Comparison, answers: Mapping[str, AnswerValue], lang: str) -> str:
    texts = coach_texts(lang)
    before, after = answers.get(comparison.before), answers.get(comparison.after)
    step = exercise.step_for_field(comparison.before)
    if before is None or after is None or step is None:
        return texts["no_change_recorded"]
    if isinstance(before, list) and isinstance(after, list):
        return _compare_emotions(before, after, lang)
    return render(
        texts["change_numbers"],
        {"before": format_answer(step, before, lang), "after": format_answer(step, after, lang)},
    )


def _compare_emotions(before: list[Any], after: list[Any], lang: str) -> str:
    """ "anxious from 80 to 40": each emotion rated earlier, matched with its new rating."""
    texts = coach_texts(lang)
    unmatched = [r for r in after if isinstance(r, dict)]
    changes = []
    for rating in (r for r in before if isinstance(r, dict)):
        again = next((r for r in unmatched if _same_emotion(rating["emotion"], r["emotion"])), None)
        values = {"emotion": str(rating["emotion"]), "before": str(rating["intensity"])}
        if again is None:
            changes.append(render(texts["emotion_not_rerated"], values))
            continue
        unmatched.remove(again)
        changes.append(render(texts["change_emotion"], {**values, "after": str(again["intensity"])}))
    for rating in unmatched:
        values = {"emotion": str(rating["emotion"]), "after": str(rating["intensity"])}
        changes.append(render(texts["emotion_new"], values))
    return join_words(changes, lang)


def _same_emotion(first: str, second: str) -> bool:
    """ "anxious" and "anxiety", "sad" and "sadness", "ashamed" and "shame", "anxieux" and "anxiété"
    name the same emotion: a shared beginning of three letters, or a four-letter stem inside the other."""
    short, long = sorted((fold(first), fold(second)), key=len)
    shared = next((i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short))
    if shared >= min(3, len(short)):
        return True
    return len(short) >= 4 and short[:4] in long


def _named_at(step: Step, folded: str) -> int | None:
    """Where the client first names this rating ("pleasure", "plaisir"), or None."""
    found = [m.start() for alias in step.aliases if (m := re.search(rf"\b{re.escape(alias)}", folded))]
    return min(found) if found else None


def _in_range(step: Step, value: float) -> bool:
    low, high = step.validation.min_value, step.validation.max_value
    return (low is None or value >= low) and (high is None or value <= high)


def _whole(value: float) -> int | float:
    rounded = round(value, 2)
    return int(rounded) if rounded.is_integer() else rounded


def _trap_note(traps: list[ThinkingTrap], lang: str) -> str:
    if not traps:
        return ""
    texts = coach_texts(lang)
    first = traps[0]
    note = render(
        texts["trap"],
        {
            "name": first.name.text(lang),
            "explanation": first.explanation.text(lang),
            "question": first.question.text(lang),
        },
    )
    if len(traps) > 1:
        others = join_words([t.name.text(lang) for t in traps[1:3]], lang)
        note += " " + render(texts["trap_others"], {"names": others})
    return note


def _emergency(ctx: CoachContext, texts: Mapping[str, str]) -> str:
    if ctx.emergency_number and ctx.emergency_number.strip():
        return render(texts["emergency_number"], {"number": ctx.emergency_number.strip()})
    return texts["emergency_default"]


def _challenges(ctx: CoachContext, step: Step) -> bool:
    """A text step after the step that looks for traps: its answer weighs the thought."""
    steps = ctx.exercise.steps
    first = next((i for i, s in enumerate(steps) if s.detect_traps), None)
    return first is not None and ctx.step_index > first + 1


def _example(step: Step, lang: str) -> str:
    examples = coach_texts(lang)
    prompt = step.prompt.text(lang)
    for marker in ("for example:", "For example:", "par exemple :", "Par exemple :", "for example", "par exemple"):
        if marker in prompt:
            return prompt.split(marker, 1)[1].strip()
    return examples["example_default"]


_QUOTES = re.compile(r"“([^”]*)”|« ([^»]*) »")


def _reflect_quotes(text: str, lang: str) -> str:
    """The client's words quoted in a question asked again, in the second person."""

    def swap(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "“" + second_person(match.group(1), lang) + "”"
        return "« " + second_person(match.group(2), lang) + " »"

    return _QUOTES.sub(swap, text)


def _varied(ack: str, step_index: int, lang: str) -> str:
    """The same "Thank you." before every answer sounds automatic: the opening word of a reflection
    changes with the step (Thank you, Got it, Okay, I see)."""
    acks = list(coach_texts(lang)["acks"])  # type: ignore[call-overload]
    first = acks[0]
    if not ack.startswith(first + " "):
        return ack
    return acks[step_index % len(acks)] + ack[len(first) :]
