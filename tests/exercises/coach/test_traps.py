from __future__ import annotations

import pytest

from service.exercises.coach import detect_traps
from service.exercises.coach.traps import thinking_traps

TRAP_EXAMPLES = [
    ("all_or_nothing", "en", "If it's not perfect, it's a total failure."),
    ("all_or_nothing", "fr", "Si ce n'est pas parfait, c'est un échec total."),
    ("catastrophising", "en", "If I make a mistake at the meeting it will be a disaster."),
    ("catastrophising", "fr", "Si je me trompe pendant la réunion, ce sera une catastrophe."),
    ("mind_reading", "en", "She thinks I'm boring."),
    ("mind_reading", "fr", "Il pense que je suis ennuyeux."),
    ("fortune_telling", "en", "I'm going to fail the exam."),
    ("fortune_telling", "fr", "Je vais rater l'examen."),
    ("should_statements", "en", "I should be able to handle this on my own."),
    ("should_statements", "fr", "Je devrais y arriver seul."),
    ("labelling", "en", "I am such a loser."),
    ("labelling", "fr", "Je suis une ratée."),
    ("overgeneralisation", "en", "This always happens to me."),
    ("overgeneralisation", "fr", "Ça tourne toujours mal avec moi."),
    ("discounting_positive", "en", "I passed, but it was just luck."),
    ("discounting_positive", "fr", "J'ai réussi, mais c'était de la chance."),
    ("personalisation", "en", "It's my fault he got into a fight."),
    ("personalisation", "fr", "C'est de ma faute s'il se bat."),
    ("emotional_reasoning", "en", "I feel useless, so I must be."),
    ("emotional_reasoning", "fr", "Je me sens nulle, donc c'est que je le suis."),
    ("mental_filter", "en", "All I can think about is the one slide I got wrong."),
    ("mental_filter", "fr", "Je ne pense qu'à ça, la seule diapo ratée."),
    ("fortune_telling", "en", "They're going to let me go."),
]


@pytest.mark.parametrize(("code", "locale", "thought"), TRAP_EXAMPLES)
def test_each_trap_is_recognised_in_english_and_french(code: str, locale: str, thought: str) -> None:
    assert [t.code for t in detect_traps(thought, locale)][:1] == [code]


@pytest.mark.parametrize(
    "thought",
    [
        "I went to the shop and bought bread.",
        "My sister called me this evening.",
        "Je suis allée au marché acheter du pain.",
        "Ma sœur m'a appelée ce soir.",
    ],
)
def test_a_neutral_thought_has_no_trap(thought: str) -> None:
    assert detect_traps(thought, "en") == []


def test_spellings_without_apostrophes_or_accents_are_recognised() -> None:
    assert [t.code for t in detect_traps("im such a loser", "en")][:1] == ["labelling"]
    assert [t.code for t in detect_traps("Je vais echouer", "fr")][:1] == ["fortune_telling"]


def test_a_word_inside_another_word_is_not_a_trap() -> None:
    # "never" and "always" are phrases; "nevertheless" and "hallways" are not them.
    assert detect_traps("Nevertheless, the hallways were quiet.", "en") == []


def test_the_most_specific_trap_comes_first() -> None:
    # "I'll never" is fortune telling; "never" alone would be overgeneralisation.
    assert [t.code for t in detect_traps("I'll never pass this course.", "en")] == [
        "fortune_telling",
        "overgeneralisation",
    ]


def test_all_ten_traps_and_discounting_have_a_name_explanation_and_question_in_both_languages() -> None:
    traps = thinking_traps()
    assert {t.code for t in traps} == {c for c, _, _ in TRAP_EXAMPLES}
    assert {
        "fortune_telling",
        "mind_reading",
        "catastrophising",
        "labelling",
        "should_statements",
        "personalisation",
        "all_or_nothing",
        "overgeneralisation",
        "emotional_reasoning",
        "mental_filter",
    } <= {t.code for t in traps}
    for trap in traps:
        for text in (trap.name, trap.explanation, trap.question):
            assert text.en.strip() and text.fr.strip()
        assert trap.question.en.endswith("?") and trap.question.fr.endswith("?")
