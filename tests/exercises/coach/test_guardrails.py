from __future__ import annotations

import pytest

from service.exercises.coach import check_output
from tests.exercises.coach.conftest import context

UNSAFE = [
    ("diagnosis", "en", "You have depression, and that is why you feel this way."),
    ("diagnosis", "en", "It sounds like you might have an anxiety disorder."),
    ("diagnosis", "en", "You are clinically depressed."),
    ("diagnosis", "fr", "Vous souffrez d'une dépression."),
    ("diagnosis", "fr", "Vous présentez probablement un trouble anxieux généralisé."),
    ("medication", "en", "You could increase your dose of sertraline to 100 mg."),
    ("medication", "en", "Stop taking your pills for a while."),
    ("medication", "fr", "Augmentez votre dose de Xanax."),
    ("medication", "fr", "Vous pourriez arrêter de prendre votre antidépresseur."),
    ("human_claim", "en", "As a therapist, I understand completely."),
    ("human_claim", "en", "I'm a real person, not a bot."),
    ("human_claim", "en", "I am your therapist and I care about you."),
    ("human_claim", "fr", "En tant que psychologue, je comprends."),
    ("human_claim", "fr", "Je suis une vraie personne, pas un robot."),
    ("self_harm", "en", "You could hurt yourself with a razor."),
    ("self_harm", "en", "An overdose would end it all."),
    ("self_harm", "fr", "Vous pourriez vous faire du mal avec une lame."),
    ("self_harm", "fr", "Combien de comprimés faudrait-il ?"),
    ("off_topic", "en", "Here is a great recipe for lasagne you could try tonight!"),
    ("off_topic", "en", "As an AI language model, I can tell you about the stock market."),
    ("off_topic", "fr", "Voici une recette de lasagnes pour ce soir !"),
    ("off_topic", "en", "Here is a plan:\n- step one\n- step two"),
    ("contact_details", "en", "Call 555-123-4567 to talk to someone."),
    ("contact_details", "en", "You can read more at https://example.com/anxiety."),
    ("contact_details", "en", "Write to help@example.org whenever you like."),
    ("contact_details", "fr", "Appelez le 01 23 45 67 89 pour en parler."),
    ("too_long", "en", "Thank you for sharing this with me. " * 20),
]


@pytest.mark.parametrize(("reason", "locale", "text"), UNSAFE)
def test_unsafe_output_is_rejected_with_its_reason(reason: str, locale: str, text: str) -> None:
    verdict = check_output(text, context(locale=locale))
    assert not verdict.ok
    assert reason in verdict.reasons


SAFE = [
    ("en", "Thank you for sharing this. It sounds like a hard moment, and you described it clearly."),
    ("en", "It makes sense that you felt anxious (80) when your manager pointed out the error."),
    ("en", "I'm an automated guide, not a therapist, and I'm glad you are taking this step."),
    (
        "fr",
        "Merci d'avoir décrit ce moment. Vous avez noté votre anxiété avec précision, c'est une étape importante.",
    ),
    ("fr", "C'est compréhensible de vous sentir anxieux (80) après cette remarque de votre responsable."),
]


@pytest.mark.parametrize(("locale", "text"), SAFE)
def test_a_warm_reflection_on_the_exercise_passes(locale: str, text: str) -> None:
    assert check_output(text, context(locale=locale)).ok


def test_known_crisis_lines_and_the_clinics_own_contacts_may_be_mentioned() -> None:
    ctx = context(allowed_contacts=("+1 555 010 9999", "https://clinic.example.org/help"))
    assert check_output("If things feel too much, call 988.", ctx).ok
    assert check_output("Your clinic's line is +1 555 010 9999.", ctx).ok
    assert check_output("See https://clinic.example.org/help for the clinic's hours.", ctx).ok
    assert check_output("Le 3114 répond jour et nuit.", context(locale="fr")).ok
    assert not check_output("Call +1 555 010 1234 instead.", ctx).ok


def test_a_reply_in_the_wrong_language_is_rejected() -> None:
    english = "Thank you for sharing this with me. It sounds like you had a hard day and you felt it."
    assert check_output(english, context(locale="fr")).reasons == ["wrong_language"]
    assert check_output(english, context(locale="en")).ok


def test_an_empty_reply_is_rejected() -> None:
    assert check_output("   ", context()).reasons == ["empty"]
