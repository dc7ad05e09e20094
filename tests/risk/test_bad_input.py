"""Whatever a client types, the screen gives a result, never an exception; long text is screened whole."""

import pytest

from service.risk import RiskLevel, screen_conversation, screen_text

ORDINARY = "Went to work, had lunch with a colleague, walked home in the rain and cooked pasta. "


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\n\n\t",
        "😀😀😀🙃🔥",
        "🪦⚰️💀",
        "\x00\x01\x02\x1b[31m\x7f",
        "I\u200bwant\u200bto\u200bdie\u0000",
        "a" * 10_000,
        "😭" * 5_000,
        "é" * 3_000 + "\u0301" * 3_000,
        "\ud800 lone surrogate",
        # Read by the learned model too (warning-sign words): its reader must take any str.
        "I have been saving my pills \ud800 and wrote letters to everyone \udfff",
        "je veux mourir \ud800 ce soir, j'ai tout préparé",
        "je suis tired of everything, vraiment",
    ],
)
@pytest.mark.parametrize("lang", ["en", "fr-CA", ""])
def test_any_text_gets_a_result(text, lang):
    result = screen_text(text, lang)
    assert isinstance(result.level, RiskLevel)
    assert result.to_dict()["level"] in {"none", "low", "moderate", "high"}


def test_an_empty_or_emoji_only_message_is_none():
    assert screen_text("", "en").level is RiskLevel.NONE
    assert screen_text("😀😀😀", "fr").level is RiskLevel.NONE


def test_a_ten_thousand_character_note_is_screened_whole():
    filler = ORDINARY * (10_000 // len(ORDINARY))
    assert len(filler) > 9_000
    assert screen_text(filler, "en").level is RiskLevel.NONE
    note = filler + "I took all my pills an hour ago."  # past the 10,000th character
    assert len(note) > 10_000
    result = screen_text(note, "en")
    assert result.level is RiskLevel.HIGH
    assert any("pills" in item.text for item in result.evidence)


def test_risk_buried_in_the_middle_of_a_long_note_is_found():
    filler = ORDINARY * 40
    note = filler + "Anyway I have been saving up my sleeping pills for a while now. " + filler
    assert screen_text(note, "en").level is RiskLevel.HIGH


def test_control_characters_do_not_hide_words():
    assert screen_text("I want to kill myself\x00", "en").level >= RiskLevel.LOW
    assert screen_text("je veux mourir\x1b[0m", "fr").level >= RiskLevel.LOW


def test_mixed_languages_are_screened_with_every_rule_set_when_the_language_is_unknown():
    assert screen_text("je veux mourir, I can't do this anymore", "").level >= RiskLevel.LOW
    assert screen_text("I bought a rope today. J'ai tout prévu.", "xx").level is RiskLevel.HIGH


def test_conversations_of_odd_messages_give_a_result():
    result = screen_conversation(["", "😀", "\x00", "a" * 10_000], "en")
    assert result.level is RiskLevel.NONE
