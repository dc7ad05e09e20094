from __future__ import annotations

import dataclasses
import re

import pytest

from service.exercises.catalog import StepKind, get_exercise, load_catalog
from service.exercises.coach import CoachContext, CoachReply, ScriptedCoach
from service.exercises.coach.reflect import second_person
from service.exercises.coach.texts import coach_texts
from tests.exercises.coach.conftest import context

coach = ScriptedCoach()

THOUGHT_RECORD = {
    "en": [
        "At work, my manager criticised my presentation in front of the team.",
        "anxious 80, ashamed 60",
        "I'm going to lose my job.",
        "She said slide 3 had an error.",
        "She also said the rest was clear and thanked me.",
        "I made one mistake, and most of the presentation went well.",
        "anxious 40, ashamed 30",
    ],
    "fr": [
        "Au travail, ma responsable a critiqué ma présentation devant l'équipe.",
        "anxieux 80, honteux 60",
        "Je vais perdre mon travail.",
        "Elle a relevé une erreur sur la diapositive 3.",
        "Elle a aussi dit que le reste était clair et m'a remercié.",
        "J'ai fait une erreur, et l'essentiel de la présentation s'est bien passé.",
        "anxiété 40, honte 30",
    ],
}


def run(ctx: CoachContext, messages: list[str]) -> CoachReply:
    reply = coach.opening(ctx)
    for message in messages:
        assert not reply.done
        reply = coach.reply(_next(ctx, reply), message)
    return reply


def _next(ctx: CoachContext, reply: CoachReply) -> CoachContext:
    return CoachContext(exercise=ctx.exercise, locale=ctx.locale, step_index=reply.step_index, answers=reply.answers)


def _intensities(ratings: object) -> list[int]:
    assert isinstance(ratings, list)
    return [rating["intensity"] for rating in ratings]


# ---------------------------------------------------------------- opening


def test_opening_says_it_is_an_automated_guide_not_a_therapist_and_how_to_get_help() -> None:
    message = coach.opening(context()).message
    assert "automated guide, not a person or a therapist" in message
    assert "can't give medical advice or answer emergencies" in message
    assert "emergency number" in message
    # Short: the disclosure is one sentence, not a paragraph.
    assert len(coach_texts("en")["disclosure_short"].split()) <= 30


def test_french_opening_discloses_the_same_in_french() -> None:
    message = coach.opening(context(locale="fr")).message
    assert "guide automatisé, ni une personne ni un thérapeute" in message
    assert "je ne peux ni donner d'avis médical ni répondre aux urgences" in message
    assert "numéro d'urgence local" in message


def test_opening_greets_by_name_relays_the_clinicians_note_then_asks_the_first_question() -> None:
    reply = coach.opening(context(first_name="Sam", instructions="Start with Monday's meeting."))
    first_prompt = get_exercise("thought_record").steps[0].prompt.en
    assert reply.message.startswith("Hello Sam.")
    assert "A note from your therapist: Start with Monday's meeting." in reply.message
    assert reply.message.endswith(first_prompt)
    assert reply.message.index("automated") < reply.message.index("Monday") < reply.message.index(first_prompt)
    assert (reply.step_index, reply.answers, reply.done, reply.engine) == (0, {}, False, "scripted")


def test_opening_names_the_local_emergency_number_when_known() -> None:
    assert "in danger, call 112, your local emergency number," in coach.opening(context(emergency_number="112")).message
    assert (
        "appelez le 15, le numéro d'urgence local" in coach.opening(context(locale="fr", emergency_number="15")).message
    )


def test_opening_of_a_resumed_session_picks_up_at_the_current_step() -> None:
    ctx = context("behavioural_activation", step_index=6, answers={"activity": "A walk", "when": "Tuesday"})
    reply = coach.opening(ctx)
    assert "Let's pick up where you left off." in reply.message
    assert "Today's exercise" not in reply.message
    assert "A walk, Tuesday" in reply.message
    assert reply.step_index == 6
    # The disclosure is said once per session: not again when the session is resumed.
    assert "automated" not in reply.message


# ---------------------------------------------------------------- a whole thought record


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_thought_record_runs_to_the_end_with_balanced_thought_and_rerated_emotions(locale: str) -> None:
    reply = run(context(locale=locale), THOUGHT_RECORD[locale])
    assert reply.done
    assert reply.step_index == len(get_exercise("thought_record").steps)
    assert reply.answers["balanced_thought"] == THOUGHT_RECORD[locale][5]
    assert _intensities(reply.answers["emotions_before"]) == [80, 60]
    assert _intensities(reply.answers["emotions_after"]) == [40, 30]
    assert second_person(THOUGHT_RECORD[locale][5].rstrip("."), locale) in reply.message


def test_thought_record_closing_shows_how_each_emotion_changed() -> None:
    assert "anxious from 80 to 40 and ashamed from 60 to 30" in run(context(), THOUGHT_RECORD["en"]).message
    french = run(context(locale="fr"), THOUGHT_RECORD["fr"]).message
    assert "Bravo d'avoir rempli ce registre des pensées" in french
    # "anxiété" and "honte" are recognised as the "anxieux" and "honteux" rated before.
    assert "anxieux de 80 à 40 et honteux de 60 à 30" in french


def test_reflection_gives_back_the_clients_own_words() -> None:
    ctx = context()
    reply = coach.reply(ctx, "At the bus stop, a friend walked past without saying hello.")
    assert reply.message.startswith(
        "Thank you. Let's stay with that moment: At the bus stop, a friend walked past without saying hello."
    )
    reply = coach.reply(_next(ctx, reply), "hurt 70, sad 50")
    assert reply.message.startswith("You noticed feeling hurt (70) and sad (50) in that situation.")


def test_long_answers_are_shortened_when_quoted_back_but_stored_whole() -> None:
    situation = "On the train home " + "after a very long day at work " * 10
    reply = coach.reply(context(), situation)
    assert reply.answers["situation"] == situation.strip()
    assert "…" in reply.message and situation.strip() not in reply.message


# ---------------------------------------------------------------- answers that cannot be used


def test_unusable_answer_is_asked_again_and_the_state_does_not_move() -> None:
    ctx = context(step_index=1, answers={"situation": "At work"})
    reply = coach.reply(ctx, "pretty bad honestly")
    assert reply.step_index == 1
    assert reply.answers == {"situation": "At work"}
    assert not reply.done
    assert "number from 0 to 100" in reply.message


def test_french_unusable_answer_is_asked_again_in_french() -> None:
    reply = coach.reply(context("breathing", locale="fr"), "beaucoup")
    assert reply.message == "J'ai besoin d'un nombre ici : merci de répondre par un nombre de 0 à 10."
    assert reply.step_index == 0
    # "I don't know" is not an unusable answer: it gets an example and the offer to skip.
    reply = coach.reply(context("breathing", locale="fr"), "je ne sais pas trop")
    assert "Par exemple" in reply.message and "passer cette étape" in reply.message
    assert reply.step_index == 0


def test_asking_for_help_gives_the_step_help_and_repeats_the_question() -> None:
    reply = coach.reply(context(step_index=2, answers={"situation": "x", "emotions_before": []}), "what do you mean?")
    step = get_exercise("thought_record").steps[2]
    assert reply.message == f"{step.help.en}\n\n{step.prompt.en}"  # type: ignore[union-attr]
    assert reply.step_index == 2


def test_context_answers_are_never_modified_in_place() -> None:
    answers = {"situation": "At work"}
    coach.reply(context(step_index=1, answers=answers), "anxious 80")
    assert answers == {"situation": "At work"}


def test_a_step_index_outside_the_exercise_is_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        context(step_index=99)


# ---------------------------------------------------------------- thinking traps


def test_automatic_thought_with_a_trap_gets_the_trap_named_and_its_question() -> None:
    ctx = context(step_index=2, answers={"situation": "At work", "emotions_before": []})
    reply = coach.reply(ctx, "Everyone thinks I'm boring.")
    assert reply.traps[0] == "mind_reading"
    assert "a common thinking trap: mind reading, that is, assuming you know what others are thinking" in reply.message
    assert "What do you actually know about what they think?" in reply.message
    assert reply.message.endswith(get_exercise("thought_record").steps[3].prompt.en)
    assert reply.step_index == 3


def test_french_automatic_thought_trap_is_named_in_french() -> None:
    ctx = context(locale="fr", step_index=2, answers={"situation": "Au travail", "emotions_before": []})
    reply = coach.reply(ctx, "Je vais rater l'examen.")
    assert reply.traps == ["fortune_telling"]
    assert "un piège de pensée fréquent : la prédiction de l'avenir, c'est-à-dire" in reply.message
    assert "Que pourrait-il se passer d'autre ?" in reply.message


def test_neutral_automatic_thought_gets_no_trap() -> None:
    ctx = context(step_index=2, answers={"situation": "At work", "emotions_before": []})
    reply = coach.reply(ctx, "I wonder whether the meeting was moved to Thursday.")
    assert reply.traps == []
    assert "thinking trap" not in reply.message


def test_traps_are_only_looked_for_in_the_automatic_thought() -> None:
    reply = coach.reply(context(), "Everyone thinks I'm boring, said my sister at dinner.")
    assert reply.traps == []


# ---------------------------------------------------------------- every exercise, start to end


def _valid_answer(step, locale: str) -> str:  # type: ignore[no-untyped-def]
    french = locale == "fr"
    match step.kind:
        case StepKind.SCALE | StepKind.NUMBER:
            return str(int((step.validation.min_value + step.validation.max_value) // 2))
        case StepKind.CHOICE:
            return "1"
        case StepKind.MULTI_TEXT:
            return ", ".join(f"{'chose' if french else 'thing'} {i}" for i in range(step.validation.min_items or 1))
        case StepKind.EMOTION_RATINGS:
            return "calme 40" if french else "calm 40"
        case StepKind.TIMER:
            return "fini" if french else "done"
        case StepKind.CONFIRM:
            return "oui" if french else "yes"
        case _:
            return "Quelque chose de simple" if french else "Something simple"


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("code", sorted(load_catalog()))
def test_every_exercise_can_be_completed_and_every_message_is_filled_in(code: str, locale: str) -> None:
    ctx = context(code, locale=locale)
    reply = coach.opening(ctx)
    # A breathing step takes one reply per round; every other step, one reply.
    rounds = sum(s.breathing.rounds - 1 for s in ctx.exercise.steps if s.breathing)
    for _ in range(len(ctx.exercise.steps) + rounds + 1):
        assert not re.search(r"\{[a-z_]+\}", reply.message), reply.message
        if reply.done:
            break
        before, answered = reply.step_index, dict(reply.answers)
        reply = coach.reply(_next(ctx, reply), _valid_answer(ctx.exercise.steps[before], locale))
        assert reply.step_index > before or reply.answers != answered, reply.message
    assert reply.done
    fields = {s.field for s in ctx.exercise.steps if s.field}
    assert set(reply.answers) == fields


def test_breathing_fills_the_pattern_into_the_prompt_and_shows_the_posture_first() -> None:
    reply = coach.reply(context("breathing"), "4")
    assert "You rated your calm at 4 out of 10." in reply.message
    assert reply.message.index("Sit comfortably") < reply.message.index("for 4 seconds")
    assert "out slowly through your mouth for 6 seconds. Repeat 6 times" in reply.message
    assert get_exercise("breathing").steps[reply.step_index].kind is StepKind.TIMER


def test_breathing_closing_reports_the_change_in_calm() -> None:
    ctx = context("breathing", step_index=3, answers={"calm_before": 3, "pacing": {"cycles_done": 6}})
    reply = coach.reply(ctx, "7 out of 10")
    assert reply.done
    assert "Your calm went from 3 to 7 out of 10." in reply.message


# ---------------------------------------------------------------- waiting and finishing


def test_activity_planning_waits_until_the_client_has_done_the_activity() -> None:
    answers = {
        "activity": "Walk to the park",
        "when": "Tuesday 6 pm",
        "predicted_mastery": 3,
        "predicted_pleasure": 4,
    }
    ctx = context("behavioural_activation", step_index=6, answers=answers)
    waiting = coach.reply(ctx, "not yet")
    assert waiting.step_index == 6 and "activity_done" not in waiting.answers
    assert waiting.message.startswith("No problem. Your plan is saved")
    done = coach.reply(ctx, "yes, I did it this morning")
    assert done.step_index == 7 and done.answers["activity_done"] is True
    assert done.message.startswith("Welcome back, and well done for doing it.")


def test_activity_planning_closing_compares_predictions_with_what_happened() -> None:
    answers = {
        "activity": "Walk to the park",
        "when": "Tuesday",
        "predicted_mastery": 3,
        "predicted_pleasure": 4,
        "activity_done": True,
        "actual_mastery": 6,
        "actual_pleasure": 7,
    }
    reply = coach.reply(context("behavioural_activation", step_index=9, answers=answers), "skip")
    assert reply.done and reply.answers["noticed"] is None
    assert "You predicted mastery 3/10 and pleasure 4/10; it turned out to be mastery 6/10 and pleasure 7/10" in (
        reply.message
    )


def test_activity_planning_asks_what_might_get_in_the_way_and_the_plan_before_the_predictions() -> None:
    ids = [s.id for s in get_exercise("behavioural_activation").steps]
    assert ids[:6] == ["activity", "when", "obstacles", "plan", "predicted_mastery", "predicted_pleasure"]


@pytest.mark.parametrize(
    ("message", "mastery", "pleasure"),
    [
        ("mastery 6, pleasure 4", 6, 4),
        ("pleasure 7 and mastery 3", 3, 7),
        ("5 and 8", 5, 8),
        ("plaisir 9, maîtrise 2", 2, 9),
    ],
)
def test_two_predictions_in_one_message_fill_both_ratings(message: str, mastery: int, pleasure: int) -> None:
    answers = {"activity": "A walk", "when": "Tuesday", "obstacles": None, "plan": None}
    reply = coach.reply(context("behavioural_activation", step_index=4, answers=answers), message)
    assert (reply.answers["predicted_mastery"], reply.answers["predicted_pleasure"]) == (mastery, pleasure)
    assert reply.step_index == 6 and f"mastery {mastery}/10, pleasure {pleasure}/10" in reply.message


def test_three_numbers_at_a_prediction_are_asked_again() -> None:
    answers = {"activity": "A walk", "when": "Tuesday", "obstacles": None, "plan": None}
    reply = coach.reply(context("behavioural_activation", step_index=4, answers=answers), "6, 4 or 5")
    assert reply.step_index == 4 and "predicted_mastery" not in reply.answers


def test_a_life_area_in_the_clients_own_words_is_kept_and_reflected_in_the_second_person() -> None:
    reply = coach.reply(context("values_clarification", locale="fr"), "La famille et ma santé")
    assert reply.step_index == 1 and reply.answers["area"] == "La famille et ma santé"
    assert "famille et votre santé" in reply.message
    assert coach.reply(context("values_clarification"), "2").answers["area"] == "work"


def test_a_rating_is_asked_again_once_then_left_out_and_a_sentence_answers_the_next_question() -> None:
    answers = {"situation": "My manager moved my presentation"}
    first = context("thought_record", step_index=1, answers=answers)
    asked = coach.reply(first, "she doesn't trust me to do it properly")
    assert asked.step_index == 1 and "emotions_before" not in asked.answers  # asked again, once
    second = dataclasses.replace(first, tries=1)
    moved = coach.reply(second, "she doesn't trust me to do it properly")
    assert (
        moved.answers["emotions_before"] is None
        and moved.answers["automatic_thought"] == "she doesn't trust me to do it properly"
    )
    assert moved.message.startswith("That's all right, we can leave the rating out.")
    assert "she doesn't trust you to do it properly" in moved.message


def test_a_short_reply_at_a_rating_asked_twice_moves_on_without_being_taken_as_the_next_answer() -> None:
    ctx = context("grounding", locale="fr", tries=1)
    reply = coach.reply(ctx, "bof")
    assert reply.step_index == 0  # "bof" is filler, not an answer: the rating waits
    reply = coach.reply(ctx, "moyen quoi")
    assert reply.step_index == 1 and reply.answers == {"distress_before": None} and "see" not in reply.answers
    assert "on peut laisser cette évaluation de côté" in reply.message


@pytest.mark.parametrize(
    ("locale", "message"), [("fr", "18h"), ("fr", "vers 19 h 30 dans la cuisine"), ("en", "6pm at the kitchen table")]
)
def test_a_time_of_day_at_the_worry_rating_is_the_worry_time_not_an_out_of_range_rating(
    locale: str, message: str
) -> None:
    ctx = context("worry_postponement", locale=locale, step_index=1, answers={"worry": "money"})
    reply = coach.reply(ctx, message)
    assert reply.answers["worry_before"] is None and reply.answers["worry_time"] == message
    assert reply.step_index == 3


def test_a_rating_and_a_time_in_one_message_fill_both() -> None:
    ctx = context("worry_postponement", step_index=1, answers={"worry": "money"})
    reply = coach.reply(ctx, "7, and I'll look at it at 6pm in the kitchen")
    assert reply.answers["worry_before"] == 7 and reply.step_index == 3


def test_a_short_list_is_asked_again_once_then_what_the_client_found_is_enough() -> None:
    ctx = context("grounding", step_index=1, answers={"distress_before": 6})
    first = coach.reply(ctx, "the lamp, my phone")
    assert first.step_index == 1 and first.message.startswith("I counted 2.")
    second = coach.reply(dataclasses.replace(ctx, tries=1), "the lamp, my phone")
    assert second.step_index == 2 and second.answers["see"] == ["the lamp", "my phone"]
    assert second.message.startswith("That's enough to go on with.") and "your phone" in second.message


def test_a_message_after_the_end_changes_nothing() -> None:
    exercise = get_exercise("grounding")
    ctx = context("grounding", step_index=len(exercise.steps), answers={"distress_before": 6})
    reply = coach.reply(ctx, "hello again")
    assert reply.done and reply.answers == {"distress_before": 6}
    assert reply.message.startswith("This exercise is complete.")


@pytest.mark.parametrize("message", ["ok ready", "hang on, my phone buzzed", "je commence", "the timer is weird"])
def test_a_breathing_round_is_counted_only_when_the_client_says_it_was_done(message: str) -> None:
    timer = next(i for i, s in enumerate(get_exercise("breathing").steps) if s.kind is StepKind.TIMER)
    ctx = context("breathing", step_index=timer, answers={"calm_before": 4})
    reply = coach.reply(ctx, message)
    assert reply.step_index == timer and "pacing" not in reply.answers
    done = coach.reply(ctx, "done")
    assert done.step_index == timer and done.answers["pacing"]["rounds_done"] == 1
    assert "Round 1 of 3 done." in done.message


def test_breathing_moves_on_after_the_third_round_the_client_says_is_done() -> None:
    timer = next(i for i, s in enumerate(get_exercise("breathing").steps) if s.kind is StepKind.TIMER)
    ctx = context("breathing", step_index=timer, answers={"calm_before": 4})
    for expected in (1, 2):
        reply = coach.reply(ctx, "done")
        assert reply.step_index == timer and reply.answers["pacing"]["rounds_done"] == expected
        ctx = context("breathing", step_index=reply.step_index, answers=reply.answers)
    assert coach.reply(ctx, "not yet, wait").answers["pacing"]["rounds_done"] == 2
    last = coach.reply(ctx, "finished")
    assert last.step_index > timer and last.answers["pacing"]["rounds_done"] == 3


def test_a_medication_question_is_never_answered_and_is_noted_for_the_clinician() -> None:
    reply = coach.reply(context(), "Should I double my sertraline dose? The doctor is away.")
    assert reply.step_index == 0 and reply.answers == {}
    assert "doctor, prescriber or pharmacist" in reply.message and reply.note == "medication_question"
    assert "Let's stay with that moment" not in reply.message  # not taken as the situation


def test_a_stop_request_pauses_and_bus_stop_is_a_situation() -> None:
    assert coach.reply(context(), "Can we stop for today?").paused
    assert coach.reply(context(), "At the bus stop, my friend ignored me.").step_index == 1
