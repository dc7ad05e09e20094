"""The questionnaire definitions a client app renders: texts exactly as published, in en and fr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.errors import NotFound
from service.kit.i18n import pick_locale
from service.measures.instruments import (
    DEFINITIONS_DIR,
    DefinitionError,
    all_instruments,
    get_instrument,
    load_definition,
)

# Copied from shared/clinical.md: (number, LOINC, en, fr) for the PHQ-9 and GAD-7
# (id, en, fr) for the C-SSRS.
PHQ9_ITEMS = [
    (
        "1",
        "44250-9",
        "Little interest or pleasure in doing things",
        "Peu d'intérêt ou de plaisir à faire les choses",
    ),
    (
        "2",
        "44255-8",
        "Feeling down, depressed, or hopeless",
        "Être triste, déprimé(e) ou désespéré(e)",
    ),
    (
        "3",
        "44259-0",
        "Trouble falling or staying asleep, or sleeping too much",
        "Difficultés à s'endormir ou à rester endormi(e), ou dormir trop",
    ),
    (
        "4",
        "44254-1",
        "Feeling tired or having little energy",
        "Se sentir fatigué(e) ou manquer d'énergie",
    ),
    (
        "5",
        "44251-7",
        "Poor appetite or overeating",
        "Avoir peu d'appétit ou manger trop",
    ),
    (
        "6",
        "44258-2",
        ("Feeling bad about yourself — or that you are a failure or have let yourself or your family down"),
        (
            "Avoir une mauvaise opinion de soi-même, ou le sentiment d'être nul(le), ou d'avoir "
            "déçu sa famille ou s'être déçu(e) soi-même"
        ),
    ),
    (
        "7",
        "44252-5",
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "Avoir du mal à se concentrer, par exemple pour lire le journal ou regarder la télévision",
    ),
    (
        "8",
        "44253-3",
        (
            "Moving or speaking so slowly that other people could have noticed. Or the opposite — "
            "being so fidgety or restless that you have been moving around a lot more than usual"
        ),
        (
            "Bouger ou parler si lentement que les autres auraient pu le remarquer. Ou au "
            "contraire, être si agité(e) que vous avez eu du mal à tenir en place par rapport à "
            "d'habitude"
        ),
    ),
    (
        "9",
        "44260-8",
        "Thoughts that you would be better off dead, or of hurting yourself in some way",
        ("Penser qu'il vaudrait mieux mourir ou envisager de vous faire du mal d'une manière ou d'une autre"),
    ),
]
PHQ9_STEM = {
    "en": "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
    "fr": (
        "Au cours des 2 dernières semaines, selon quelle fréquence avez-vous été gêné(e) par les problèmes suivants ?"
    ),
}

GAD7_ITEMS = [
    (
        "1",
        "69725-0",
        "Feeling nervous, anxious, or on edge",
        "Sentiment de nervosité, d'anxiété ou de tension",
    ),
    (
        "2",
        "68509-9",
        "Not being able to stop or control worrying",
        "Incapable d'arrêter de s'inquiéter ou de contrôler ses inquiétudes",
    ),
    (
        "3",
        "69733-4",
        "Worrying too much about different things",
        "Inquiétudes excessives à propos de différentes choses",
    ),
    (
        "4",
        "69734-2",
        "Trouble relaxing",
        "Difficulté à se détendre",
    ),
    (
        "5",
        "69735-9",
        "Being so restless that it is hard to sit still",
        "Agitation telle qu'il est difficile de rester tranquille",
    ),
    (
        "6",
        "69689-8",
        "Becoming easily annoyed or irritable",
        "Devenir facilement contrarié(e) ou irritable",
    ),
    (
        "7",
        "69736-7",
        "Feeling afraid, as if something awful might happen",
        "Avoir peur que quelque chose d'épouvantable puisse arriver",
    ),
]
GAD7_STEM = {
    "en": "Over the last 2 weeks, how often have you been bothered by the following problems?",
    "fr": (
        "Au cours des 2 dernières semaines, à quelle fréquence avez-vous été dérangé(e) par les problèmes suivants ?"
    ),
}

CSSRS_ITEMS = [
    (
        "1",
        "Have you wished you were dead or wished you could go to sleep and not wake up?",
        "Avez-vous souhaité être mort(e), ou pouvoir vous endormir et ne jamais vous réveiller ?",
    ),
    (
        "2",
        "Have you actually had any thoughts of killing yourself?",
        "Avez-vous réellement eu des pensées de vous suicider ?",
    ),
    (
        "3",
        "Have you been thinking about how you might do this?",
        "Avez-vous pensé à la manière dont vous pourriez le faire ?",
    ),
    (
        "4",
        "Have you had these thoughts and had some intention of acting on them?",
        "Avez-vous eu ces pensées avec une certaine intention de passer à l'acte ?",
    ),
    (
        "5",
        (
            "Have you started to work out or worked out the details of how to kill yourself? Do "
            "you intend to carry out this plan?"
        ),
        (
            "Avez-vous commencé à élaborer, ou élaboré, les détails de la manière de vous suicider "
            "? Avez-vous l'intention de mettre ce plan à exécution ?"
        ),
    ),
    (
        "6",
        ("Have you done anything, started to do anything, or prepared to do anything to end your life?"),
        "Avez-vous fait, commencé à faire ou préparé quoi que ce soit pour mettre fin à vos jours ?",
    ),
    (
        "6b",
        "If yes: was this within the past 3 months?",
        "Si oui : était-ce au cours des 3 derniers mois ?",
    ),
]

CSSRS_LOINC = ["93246-7", "93247-5", "93248-3", "93249-1", "93250-9", "93267-3", "93269-9"]

FREQUENCY_OPTIONS = [
    (0, "LA6568-5", "Not at all", "Jamais"),
    (1, "LA6569-3", "Several days", "Plusieurs jours"),
    (2, "LA6570-1", "More than half the days", "Plus de la moitié du temps"),
    (3, "LA6571-9", "Nearly every day", "Presque tous les jours"),
]


def options_of(item: dict[str, Any]) -> list[tuple[int, str]]:
    return [(option["value"], option["label"]) for option in item["options"]]


@pytest.mark.parametrize(
    ("code", "expected_items", "stem"),
    [("phq9", PHQ9_ITEMS, PHQ9_STEM), ("gad7", GAD7_ITEMS, GAD7_STEM)],
)
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_item_texts_and_stem_are_exactly_the_published_ones(code, expected_items, stem, locale):
    shape = get_instrument(code).localized(locale)
    text_column = 2 if locale == "en" else 3
    assert shape["stem"] == stem[locale]
    assert [(i["id"], i["loinc"], i["text"]) for i in shape["items"]] == [
        (row[0], row[1], row[text_column]) for row in expected_items
    ]


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_cssrs_questions_are_exactly_the_published_ones(locale):
    shape = get_instrument("cssrs").localized(locale)
    column = 1 if locale == "en" else 2
    assert [(i["id"], i["text"]) for i in shape["items"]] == [(row[0], row[column]) for row in CSSRS_ITEMS]
    assert [i["loinc"] for i in shape["items"]] == CSSRS_LOINC


@pytest.mark.parametrize("code", ["phq9", "gad7"])
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_phq9_and_gad7_offer_the_same_four_frequency_options_on_every_item(code, locale):
    shape = get_instrument(code).localized(locale)
    column = 2 if locale == "en" else 3
    expected = [(row[0], row[column]) for row in FREQUENCY_OPTIONS]
    assert all(options_of(item) == expected for item in shape["items"])


@pytest.mark.parametrize("code", ["phq9", "gad7"])
def test_frequency_options_carry_their_loinc_answer_codes(code):
    for item in get_instrument(code).items:
        assert [(o.value, o.loinc) for o in item.options] == [(row[0], row[1]) for row in FREQUENCY_OPTIONS]


def test_instruments_carry_their_loinc_panel_and_total_score_codes():
    assert (get_instrument("phq9").loinc_panel, get_instrument("phq9").loinc_total) == ("44249-1", "44261-6")
    assert (get_instrument("gad7").loinc_panel, get_instrument("gad7").loinc_total) == ("69737-5", "70274-6")
    assert get_instrument("cssrs").loinc_total is None


def test_phq9_difficulty_question_is_offered_in_french_with_the_published_answers():
    difficulty = get_instrument("phq9").localized("fr")["difficulty_item"]
    assert difficulty["loinc"] == "69722-7"
    assert difficulty["text"].startswith("Si vous avez coché")
    assert options_of(difficulty) == [
        (0, "Pas du tout difficile"),
        (1, "Assez difficile"),
        (2, "Très difficile"),
        (3, "Extrêmement difficile"),
    ]


def test_phq9_difficulty_question_is_offered_in_english():
    difficulty = get_instrument("phq9").localized("en")["difficulty_item"]
    assert difficulty["text"].startswith("If you checked off any problems, how difficult")
    assert options_of(difficulty) == [
        (0, "Not difficult at all"),
        (1, "Somewhat difficult"),
        (2, "Very difficult"),
        (3, "Extremely difficult"),
    ]
    difficulty_item = get_instrument("phq9").difficulty_item
    assert difficulty_item is not None
    assert [o.loinc for o in difficulty_item.options] == [
        "LA6572-7",
        "LA6573-5",
        "LA6575-0",
        "LA6574-3",
    ]


def test_only_the_phq9_has_a_difficulty_question():
    assert "difficulty_item" not in get_instrument("gad7").localized("en")
    assert "difficulty_item" not in get_instrument("cssrs").localized("en")


def test_cssrs_answers_are_yes_or_no_in_both_languages():
    assert options_of(get_instrument("cssrs").localized("en")["items"][0]) == [(1, "Yes"), (0, "No")]
    assert all(
        options_of(item) == [(1, "Oui"), (0, "Non")] for item in get_instrument("cssrs").localized("fr")["items"]
    )


def test_cssrs_skip_logic_is_sent_to_the_app():
    items = {item["id"]: item for item in get_instrument("cssrs").localized("en")["items"]}
    for asked_after_thoughts in ("3", "4", "5"):
        assert items[asked_after_thoughts]["ask_if"] == {"item": "2", "answer": 1}
    assert items["6b"]["ask_if"] == {"item": "6", "answer": 1}
    assert all("ask_if" not in items[always] for always in ("1", "2", "6"))


def test_cssrs_instructions_speak_of_the_past_month_in_both_languages():
    assert "past month" in get_instrument("cssrs").localized("en")["instructions"]
    assert "dernier mois" in get_instrument("cssrs").localized("fr")["instructions"]


@pytest.mark.parametrize(
    ("code", "bands"),
    [
        (
            "phq9",
            [
                (0, 4, "minimal"),
                (5, 9, "mild"),
                (10, 14, "moderate"),
                (15, 19, "moderately_severe"),
                (20, 27, "severe"),
            ],
        ),
        ("gad7", [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]),
    ],
)
def test_severity_bands_are_the_published_ones(code, bands):
    assert [(b.min, b.max, b.key) for b in get_instrument(code).severity_bands] == bands


def test_recall_periods_are_two_weeks_and_one_month():
    assert [i.recall_period for i in all_instruments()] == ["P2W", "P2W", "P1M"]


@pytest.mark.parametrize("locale", ["fr-CA", "fr_FR", "FR", "fr"])
def test_french_variants_get_french(locale):
    assert pick_locale(locale) == "fr"
    assert get_instrument("gad7").localized(locale)["title"].startswith("GAD-7 : questionnaire")


@pytest.mark.parametrize("locale", ["de", "", "xx-YY", "en-GB"])
def test_unsupported_locale_falls_back_to_english(locale):
    shape = get_instrument("phq9").localized(locale)
    assert shape["locale"] == "en"
    assert shape["items"][0]["options"][0]["label"] == "Not at all"


def test_localized_shape_is_what_a_client_app_renders():
    shape = get_instrument("phq9").localized("en")
    assert json.loads(json.dumps(shape)) == shape
    assert set(shape) == {
        "code",
        "name",
        "locale",
        "title",
        "stem",
        "instructions",
        "recall_period",
        "source",
        "items",
        "difficulty_item",
    }
    assert set(shape["items"][0]) == {"id", "loinc", "text", "options"}
    assert set(shape["items"][0]["options"][0]) == {"value", "label"}


def test_every_text_a_person_reads_exists_in_english_and_french():
    for instrument in all_instruments():
        en, fr = instrument.localized("en"), instrument.localized("fr")
        assert en["title"] and fr["title"] and en["source"] and fr["source"]
        for english, french in zip(en["items"], fr["items"], strict=True):
            assert english["text"] and french["text"] and english["text"] != french["text"]
            assert all(o["label"] for o in english["options"] + french["options"])
        bands = instrument.severity_bands or instrument.triage_levels
        assert all(b.label["en"] and b.label["fr"] for b in bands)


def test_unknown_instrument_is_not_found():
    with pytest.raises(NotFound) as raised:
        get_instrument("x")
    assert raised.value.detail == "unknown instrument 'x'"


def test_all_instruments_are_listed_phq9_first():
    assert [i.code for i in all_instruments()] == ["phq9", "gad7", "cssrs"]


def _edited_copy(tmp_path: Path, code: str, edit) -> Path:
    raw = json.loads((DEFINITIONS_DIR / f"{code}.json").read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / f"{code}.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_a_gap_between_severity_bands_stops_loading(tmp_path):
    path = _edited_copy(tmp_path, "phq9", lambda raw: raw["severity_bands"][1].update(min=6))
    with pytest.raises(DefinitionError, match="severity band mild"):
        load_definition(path)


def test_bands_that_stop_short_of_the_maximum_total_stop_loading(tmp_path):
    path = _edited_copy(tmp_path, "gad7", lambda raw: raw["severity_bands"][-1].update(max=20))
    with pytest.raises(DefinitionError, match="maximum total 21"):
        load_definition(path)


def test_a_text_missing_its_french_stops_loading(tmp_path):
    path = _edited_copy(tmp_path, "gad7", lambda raw: raw["items"][3]["text"].pop("fr"))
    with pytest.raises(DefinitionError, match="lacks fr"):
        load_definition(path)


def test_skip_logic_pointing_at_a_later_item_stops_loading(tmp_path):
    path = _edited_copy(tmp_path, "cssrs", lambda raw: raw["items"][2].update(ask_if={"item": "6", "answer": 1}))
    with pytest.raises(DefinitionError, match="must come first"):
        load_definition(path)


def test_a_triage_rule_naming_an_unknown_level_stops_loading(tmp_path):
    path = _edited_copy(tmp_path, "cssrs", lambda raw: raw["triage"]["rules"][0].update(level="urgent"))
    with pytest.raises(DefinitionError, match="unknown level urgent"):
        load_definition(path)


def test_the_shipped_definitions_load():
    assert {load_definition(path).code for path in DEFINITIONS_DIR.glob("*.json")} == {
        "phq9",
        "gad7",
        "cssrs",
    }
