"""Whole exchanges (screen_conversation): signals spread over messages add up, alarming words that
the next message explains do not count, and the evidence names the messages involved."""

import json

import pytest

from service.errors import Invalid
from service.risk import RiskLevel, screen_conversation, screen_text
from tests.support.cli import tandem

# Each message harmless on its own; together a farewell, affairs in order and a plan.
SPREAD = {
    "en": [
        "Thank you for being so kind to me these months.",
        "Mood 4. Quiet day.",
        "Booked a hotel room for Friday night, just me.",
        "Cancelled the gym and my phone contract.",
        "Friday it is.",
    ],
    "fr": [
        "Merci d'avoir été si patients avec moi.",
        "Humeur 4. Journée calme.",
        "J'ai résilié la gym et mon forfait.",
        "Merci pour tout, les exercices étaient bien tant que ça a duré.",
        "Ma décision est faite.",
    ],
}
# Alarming words that the next message explains.
EXPLAINED = {
    "en": [
        "Bought the rope today.",
        "For the boat! Re-rigging the halyard before the season starts.",
        "Good day on the water.",
    ],
    "fr": [
        "J'ai acheté une corde aujourd'hui.",
        "Pour le bateau ! On refait le gréement avant la saison.",
        "Belle journée sur l'eau.",
    ],
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_messages_harmless_alone_that_state_a_farewell_and_a_plan_together_are_high(lang):
    messages = SPREAD[lang]
    assert [screen_text(message, lang).level for message in messages] == [RiskLevel.NONE] * len(messages)
    result = screen_conversation(messages, lang)
    assert result.level is RiskLevel.HIGH
    involved = {item.message for item in result.evidence}
    assert {0, 4} <= involved  # the farewell and the plan, named by their index
    assert 1 not in involved  # the ordinary check-in is not evidence
    assert all(item.text for item in result.evidence)
    assert all("message" in item for item in result.to_dict()["evidence"])


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_alarming_words_that_the_next_message_explains_raise_nothing(lang):
    messages = EXPLAINED[lang]
    assert screen_text(messages[0], lang).level is RiskLevel.HIGH  # alone, it is alarming
    assert screen_conversation(messages, lang).level is RiskLevel.NONE


def test_an_explanation_that_is_itself_alarming_explains_nothing():
    messages = ["Bought the rope today.", "I mean, it's for Friday, I've decided."]
    result = screen_conversation(messages, "en")
    assert result.level is RiskLevel.HIGH
    assert 0 in {item.message for item in result.evidence}


def test_a_single_high_message_stays_high_with_its_index():
    result = screen_conversation(["slept ok", "I took all my pills an hour ago"], "en")
    assert result.level is RiskLevel.HIGH
    assert {item.message for item in result.evidence} == {1}


def test_an_ordinary_exchange_is_none_and_an_empty_one_too():
    assert (
        screen_conversation(["Mood 6/10.", "Went for a walk with my sister.", "Slept 7 hours."], "en").level
        is RiskLevel.NONE
    )
    assert screen_conversation([], "en").level is RiskLevel.NONE


def test_a_conversation_must_be_a_list_of_texts():
    with pytest.raises(Invalid):
        screen_conversation("not a list", "en")
    with pytest.raises(Invalid):
        screen_conversation(["ok", 3], "en")


def test_cli_screens_one_conversation_per_line():
    lines = [json.dumps(SPREAD["en"]), json.dumps(EXPLAINED["en"])]
    done = tandem("risk", "screen", "--conversation", "--lang", "en", stdin="\n".join(lines) + "\n")
    assert done.exit_code == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [result["level"] for result in results] == ["high", "none"]
    assert {item["message"] for item in results[0]["evidence"]} >= {0, 4}


def test_cli_refuses_a_line_that_is_not_a_list_of_texts():
    done = tandem("risk", "screen", "--conversation", stdin='{"not": "a list"}\n')
    assert done.exit_code == 2
    assert "line 1" in done.stderr
