"""The text screen, level by level: each case names the level, the categories and the rules behind it."""

import pytest

from service.errors import Invalid
from service.risk import RiskLevel, screen_text

LEVEL_CASES = [
    # low: passive ideation, non-specific thoughts of suicide (C-SSRS 1-2)
    ("en", "I wish I was dead", "low", ["passive_ideation"], ["en.passive.wish_dead"]),
    ("en", "Everyone would be better off without me", "low", ["passive_ideation"], ["en.passive.burden"]),
    (
        "en",
        "I wish I could go to sleep and never wake up",
        "low",
        ["passive_ideation"],
        ["en.passive.not_wake_up"],
    ),
    (
        "en",
        "been having suicidal thoughts most days",
        "low",
        ["active_ideation"],
        ["en.active.suicidal_thoughts"],
    ),
    ("en", "i want to kill myself", "low", ["active_ideation"], ["en.active.kill_self"]),
    ("fr", "J'ai envie de mourir", "low", ["passive_ideation"], ["fr.passive.wish_dead"]),
    ("fr", "Je n'ai plus envie de vivre", "low", ["passive_ideation"], ["fr.passive.no_will_to_live"]),
    ("fr", "J'ai des idées noires", "low", ["active_ideation"], ["fr.active.suicidal_thoughts"]),
    # moderate: a method, urges to self-harm, old behaviour
    ("en", "I keep thinking about taking all my pills", "moderate", ["method"], ["en.method.thinking"]),
    ("en", "the urge to cut is so strong tonight", "moderate", ["self_harm"], ["en.self_harm.urge"]),
    ("en", "I attempted suicide when I was 16", "moderate", ["attempt"], ["en.attempt.act"]),
    ("fr", "Je pense à me jeter sous un train", "moderate", ["method"], ["fr.method.thinking"]),
    ("fr", "J'ai envie de me scarifier", "moderate", ["self_harm"], ["fr.self_harm.urge"]),
    ("fr", "J'ai fait une tentative de suicide il y a dix ans", "moderate", ["attempt"], ["fr.attempt.act"]),
    # high: intent, plan, preparation, goodbye, recent self-harm or attempt, harm to others
    ("en", "I'm going to kill myself tonight", "high", ["intent"], ["en.intent.stated"]),
    ("en", "I have a plan to end my life", "high", ["plan"], ["en.plan.details"]),
    ("en", "I've been stockpiling my sleeping pills", "high", ["preparation"], ["en.preparation.pills"]),
    ("en", "I googled painless ways to die", "high", ["preparation"], ["en.preparation.research"]),
    ("en", "I wrote a goodbye letter to my sister", "high", ["goodbye"], ["en.goodbye.farewell"]),
    ("en", "I gave away my dog and all my things", "high", ["goodbye"], ["en.goodbye.possessions"]),
    ("en", "I cut myself again last night", "high", ["self_harm"], ["en.self_harm.act"]),
    ("en", "I took an overdose on Sunday", "high", ["attempt"], ["en.attempt.act"]),
    ("en", "I want to kill my stepdad", "high", ["harm_to_others"], ["en.others.harm"]),
    ("fr", "Je vais me suicider ce soir", "high", ["intent"], ["fr.intent.stated"]),
    ("fr", "J'ai un plan pour me tuer", "high", ["plan"], ["fr.plan.details"]),
    ("fr", "J'ai acheté une corde", "high", ["preparation"], ["fr.preparation.means"]),
    ("fr", "J'ai écrit une lettre d'adieu à mes parents", "high", ["goodbye"], ["fr.goodbye.farewell"]),
    ("fr", "Je me suis scarifiée hier soir", "high", ["self_harm"], ["fr.self_harm.act"]),
    ("fr", "J'ai essayé de me tuer samedi", "high", ["attempt"], ["fr.attempt.act"]),
    ("fr", "J'ai envie de tuer mon voisin", "high", ["harm_to_others"], ["fr.others.harm"]),
]


@pytest.mark.parametrize(("lang", "text", "level", "categories", "rules"), LEVEL_CASES)
def test_message_gets_its_level_with_the_rules_and_categories_that_explain_it(lang, text, level, categories, rules):
    result = screen_text(text, lang)
    assert result.level is RiskLevel.parse(level)
    assert set(categories) <= set(result.categories)
    assert set(rules) <= {item.rule for item in result.evidence}
    assert all(item.level <= result.level for item in result.evidence)


def test_everyday_check_in_note_screens_none_with_no_evidence():
    result = screen_text("Slept 6 hours, work was stressful, went for a walk with my daughter after dinner", "en")
    assert result.level is RiskLevel.NONE
    assert result.categories == ()
    assert result.evidence == ()


def test_several_signals_in_one_message_keep_the_highest_level_and_all_evidence():
    result = screen_text("I wish I was dead. I bought a rope yesterday.", "en")
    assert result.level is RiskLevel.HIGH
    assert result.categories == ("passive_ideation", "preparation")
    assert [(item.rule, item.level) for item in result.evidence] == [
        ("en.passive.wish_dead", RiskLevel.LOW),
        ("en.preparation.means", RiskLevel.HIGH),
    ]


def test_evidence_quotes_the_clients_own_words_not_the_normalised_text():
    result = screen_text("Honnêtement… J'AI ENVIE DE MOURIR", "fr")
    assert [item.text for item in result.evidence] == ["ENVIE DE MOURIR"]


def test_evidence_quotes_a_misspelt_word_as_written():
    result = screen_text("having sucidal thoughts again", "en")
    assert result.level is RiskLevel.LOW
    assert [item.text for item in result.evidence] == ["sucidal thoughts"]


def test_evidence_quotes_stretched_words_and_hyphens_as_written():
    result = screen_text("I   want to dieeeee", "en")
    assert [item.text for item in result.evidence] == ["want to dieeeee"]
    history = screen_text("I have a history of self-harm", "en")
    assert [item.text for item in history.evidence] == ["history of self-harm"]


def test_evidence_quotes_words_around_a_ligature_exactly():
    result = screen_text("Ma sœur me manque. Je veux mourir", "fr")
    assert [item.text for item in result.evidence] == ["veux mourir"]


@pytest.mark.parametrize("lang", ["fr-CA", "FR", "fr_BE"])
def test_language_tags_use_the_rules_of_their_language(lang):
    assert screen_text("je veux me suicider ce soir", lang).level is RiskLevel.HIGH


@pytest.mark.parametrize("lang", ["de", "", "es-MX"])
def test_unknown_language_is_screened_with_every_rule_set(lang):
    assert screen_text("I'm going to kill myself", lang).level is RiskLevel.HIGH
    assert screen_text("je vais me tuer", lang).level is RiskLevel.HIGH


def test_empty_text_is_none():
    assert screen_text("", "en").level is RiskLevel.NONE
    assert screen_text("   \n ", "fr").level is RiskLevel.NONE


def test_text_must_be_a_string():
    with pytest.raises(Invalid):
        screen_text(None, "en")  # type: ignore[arg-type]


def test_a_signal_on_a_later_line_is_found():
    note = "Mood 3/10.\nSlept badly.\nI don't want to be alive anymore"
    assert screen_text(note, "en").level is RiskLevel.LOW


def test_a_long_message_is_screened_in_full():
    filler = "Work was long and the bus was late again. " * 200
    assert screen_text(filler + "I have a plan to kill myself.", "en").level is RiskLevel.HIGH


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I want to kill myself tonight.", "fr"),
        ("I've written my goodbye letters", "fr-CA"),
        ("j'ai envie de me tuer ce soir", "en"),
    ],
)
def test_a_message_in_the_other_language_is_still_screened(text, lang):
    """A French-speaking client who writes in English (or the reverse) still gets the crisis block."""
    assert screen_text(text, lang).level is RiskLevel.HIGH
