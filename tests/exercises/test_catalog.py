from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.errors import NotFound
from service.exercises import catalog
from service.exercises.answers import describe_expected, format_answer, parse_answer
from service.exercises.catalog import (
    AnswerResult,
    CatalogError,
    Exercise,
    Localized,
    Step,
    StepKind,
    get_exercise,
    list_exercises,
    load_catalog,
)

REQUIRED_CODES = {
    "thought_record",
    "behavioural_activation",
    "breathing",
    "grounding",
    "worry_postponement",
    "positive_data_log",
    "values_clarification",
}


def step(code: str, field: str) -> Step:
    found = get_exercise(code).step_for_field(field)
    assert found is not None
    return found


def texts_of(exercise: Exercise) -> Iterator[tuple[str, Localized]]:
    yield "title", exercise.title
    yield "summary", exercise.summary
    yield "description", exercise.description
    yield "closing", exercise.closing
    for s in exercise.steps:
        for name in ("prompt", "help", "reflection", "wait_message"):
            if (text := getattr(s, name)) is not None:
                yield f"{s.id}.{name}", text
        for option in s.options:
            yield f"{s.id}.option.{option.value}", option.label


# ---------------------------------------------------------------- the catalog


def test_catalog_holds_the_seven_exercises_with_versions_and_durations() -> None:
    exercises = load_catalog()
    assert set(exercises) >= REQUIRED_CODES
    for code, exercise in exercises.items():
        assert exercise.code == code
        assert exercise.version >= 1
        assert 1 <= exercise.minutes <= 60
        assert exercise.steps


@pytest.mark.parametrize("code", sorted(REQUIRED_CODES))
def test_every_text_of_every_step_exists_in_english_and_french(code: str) -> None:
    for where, text in texts_of(get_exercise(code)):
        assert text.en.strip(), where
        assert text.fr.strip(), where
        assert text.en != text.fr, f"{where} is not translated"


@pytest.mark.parametrize("code", sorted(REQUIRED_CODES))
def test_french_texts_address_the_client_as_vous(code: str) -> None:
    familiar = re.compile(r"\b(?:tu|toi|ton|ta|tes|te|t')\b", re.IGNORECASE)
    for where, text in texts_of(get_exercise(code)):
        assert not familiar.search(text.fr), f"{where}: {text.fr}"


def test_thought_record_walks_through_the_classic_columns_in_order() -> None:
    fields = [s.field for s in get_exercise("thought_record").steps]
    assert fields == [
        "situation",
        "emotions_before",
        "automatic_thought",
        "evidence_for",
        "evidence_against",
        "balanced_thought",
        "emotions_after",
    ]
    assert step("thought_record", "automatic_thought").detect_traps


def test_grounding_asks_for_five_four_three_two_one() -> None:
    counts = {f: step("grounding", f).validation.min_items for f in ("see", "feel", "hear", "smell", "taste")}
    assert counts == {"see": 5, "feel": 4, "hear": 3, "smell": 2, "taste": 1}


def test_breathing_paces_four_in_six_out() -> None:
    pattern = step("breathing", "pacing").breathing
    assert pattern is not None
    assert (pattern.name, pattern.cycles) == ("4-6", 6)


def test_unknown_exercise_is_not_found() -> None:
    with pytest.raises(NotFound):
        get_exercise("hypnosis")


def test_list_is_localized_and_has_what_a_picker_needs() -> None:
    french = {row["code"]: row for row in list_exercises("fr-CA")}
    assert french["thought_record"]["title"] == "Registre des pensées"
    assert french["breathing"]["minutes"] == 5
    assert set(french["grounding"]) == {"code", "title", "summary", "minutes"}
    assert {row["code"]: row["title"] for row in list_exercises("de")}["thought_record"] == "Thought record"


@pytest.fixture
def scratch_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copy(catalog.CATALOG_DIR / "_answers.toml", tmp_path)
    shutil.copy(catalog.CATALOG_DIR / "breathing.toml", tmp_path)
    monkeypatch.setattr(catalog, "CATALOG_DIR", tmp_path)
    catalog._catalog.cache_clear()
    yield tmp_path
    monkeypatch.undo()
    catalog._catalog.cache_clear()


def test_a_typo_in_a_placeholder_is_refused_when_the_catalog_loads(scratch_catalog: Path) -> None:
    path = scratch_catalog / "breathing.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("{calm_before}", "{calm_befor}"), encoding="utf-8")
    with pytest.raises(CatalogError, match="calm_befor"):
        load_catalog()


def test_a_step_missing_its_french_text_is_refused_when_the_catalog_loads(scratch_catalog: Path) -> None:
    path = scratch_catalog / "breathing.toml"
    source = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?m)^prompt\.fr = .*\n", "", source, count=1), encoding="utf-8")
    with pytest.raises(CatalogError, match="without fr"):
        load_catalog()


# ---------------------------------------------------------------- numbers and scales


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7", 7),
        ("about 7/10", 7),
        ("I'd say 7 out of 10", 7),
        ("environ 7 sur 10", 7),
        ("sept", 7),
        ("seven", 7),
        ("70%", 7),
        ("7,5", 7.5),
        ("0", 0),
    ],
)
def test_a_scale_answer_is_read_from_free_text(text: str, value: float) -> None:
    assert parse_answer(step("breathing", "calm_before"), text, "en") == AnswerResult(ok=True, value=value)


def test_a_rating_out_of_ten_is_brought_onto_a_hundred_point_scale() -> None:
    assert parse_answer(step("positive_data_log", "belief_before"), "8/10", "en").value == 80


@pytest.mark.parametrize(
    ("text", "problem", "reask"),
    [
        ("pretty calm", "number_missing", "I need a number here: please answer with a number from 0 to 10."),
        ("12", "number_out_of_range", "12 is outside the range. Please answer with a number from 0 to 10."),
        (
            "6 or 7",
            "number_ambiguous",
            "I saw more than one number. Please give just one: a number from 0 to 10.",
        ),
    ],
)
def test_an_unusable_scale_answer_is_asked_again(text: str, problem: str, reask: str) -> None:
    result = parse_answer(step("breathing", "calm_before"), text, "en")
    assert (result.ok, result.problem, result.reask) == (False, problem, reask)


def test_a_scale_is_asked_again_in_french() -> None:
    result = parse_answer(step("breathing", "calm_before"), "assez calme", "fr")
    assert result.reask == "J'ai besoin d'un nombre ici : merci de répondre par un nombre de 0 à 10."


# ---------------------------------------------------------------- emotion ratings


@pytest.mark.parametrize(
    ("text", "locale", "ratings"),
    [
        ("anxious 80, sad 60", "en", [("anxious", 80), ("sad", 60)]),
        ("I felt anxious about 80% and sad 6/10", "en", [("anxious", 80), ("sad", 60)]),
        ("anxious: 80\nsad (60)", "en", [("anxious", 80), ("sad", 60)]),
        ("anxious 80 sad 60", "en", [("anxious", 80), ("sad", 60)]),
        ("80 anxious", "en", [("anxious", 80)]),
        ("anxieux 80, triste 60", "fr", [("anxieux", 80), ("triste", 60)]),
        ("en colère 70 et honteuse 40", "fr", [("en colère", 70), ("honteuse", 40)]),
        ("Je me sentais très anxieuse à 90", "fr", [("anxieuse", 90)]),
    ],
)
def test_emotion_ratings_are_read_in_english_and_french(text: str, locale: str, ratings: list[tuple[str, int]]) -> None:
    result = parse_answer(step("thought_record", "emotions_before"), text, locale)
    assert result.ok
    assert result.value == [{"emotion": e, "intensity": i} for e, i in ratings]


def test_an_emotion_without_a_rating_is_asked_about_by_name() -> None:
    result = parse_answer(step("thought_record", "emotions_before"), "anxious and sad 70", "en")
    assert result.problem == "emotion_unrated"
    assert result.reask == (
        "How strong was “anxious”? Please give each emotion a number from 0 to 100, for example: anxious 80, sad 60."
    )
    french = parse_answer(step("thought_record", "emotions_before"), "triste, anxieux 50", "fr")
    assert french.reask is not None and french.reask.startswith("Quelle était l'intensité de « triste » ?")


def test_emotion_ratings_out_of_range_or_missing_are_asked_again() -> None:
    emotions = step("thought_record", "emotions_before")
    assert parse_answer(emotions, "anxious 150", "en").problem == "emotion_out_of_range"
    assert parse_answer(emotions, "80", "en").problem == "emotions_missing"
    assert parse_answer(emotions, "I was at work with my colleague Sam at 9", "en").problem == "emotion_unclear"
    too_many = ", ".join(f"feeling{chr(97 + i)} {i * 10}" for i in range(7))
    assert parse_answer(emotions, too_many, "en").problem == "emotions_too_many"


# ---------------------------------------------------------------- lists


@pytest.mark.parametrize(
    "text",
    [
        "lamp, chair, window, door, plant",
        "lamp\nchair\nwindow\n- door\n- plant",
        "1. lamp\n2. chair\n3. window\n4. door\n5. plant",
        "lamp; chair; window; door and plant",
    ],
)
def test_a_list_is_read_from_lines_or_commas(text: str) -> None:
    result = parse_answer(step("grounding", "see"), text, "en")
    assert result.value == ["lamp", "chair", "window", "door", "plant"]


def test_and_separates_items_only_when_the_count_needs_it() -> None:
    assert parse_answer(step("grounding", "hear"), "birds and cars and my breath", "en").value == [
        "birds",
        "cars",
        "my breath",
    ]
    sentence = "I called my mum and she was pleased"
    assert parse_answer(step("positive_data_log", "evidence"), sentence, "en").value == [sentence]
    assert parse_answer(step("grounding", "hear"), "des oiseaux, une voiture et ma respiration", "fr").value == [
        "des oiseaux",
        "une voiture",
        "ma respiration",
    ]


def test_too_few_items_are_asked_again_with_the_count() -> None:
    result = parse_answer(step("grounding", "see"), "lamp, chair", "en")
    assert result.reask == "I counted 2. Please list 5 to 10 items, one per line or separated by commas."
    french = parse_answer(step("grounding", "see"), "lampe, chaise", "fr")
    assert (
        french.reask == "J'en ai compté 2. Merci d'indiquer 5 à 10 éléments, un par ligne ou séparés par des virgules."
    )


# ---------------------------------------------------------------- choices, confirmations, text, timers


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [
        ("1", "en", "yes"),
        ("yes", "en", "yes"),
        ("Partly", "en", "partly"),
        ("no", "en", "no"),
        ("oui", "fr", "yes"),
        ("en partie", "fr", "partly"),
        ("Non", "fr", "no"),
    ],
)
def test_a_choice_is_read_by_number_or_by_words(text: str, locale: str, value: str) -> None:
    assert parse_answer(step("worry_postponement", "can_act"), text, locale).value == value


def test_a_choice_matches_a_word_of_its_label_in_either_language() -> None:
    area = step("values_clarification", "area")
    assert parse_answer(area, "famille", "fr").value == "relationships"
    assert parse_answer(area, "health", "fr").value == "health"


def test_an_unclear_choice_is_asked_again_listing_the_options() -> None:
    result = parse_answer(step("worry_postponement", "can_act"), "maybe", "en")
    assert result.problem == "choice_unknown"
    assert (
        result.reask is not None and "1. Yes, I can act on it\n2. Partly\n3. No, it's out of my control" in result.reask
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", True),
        ("Yes, though it was not easy", True),
        ("not yet", False),
        ("No, I'm not ready", False),
        ("oui", True),
        ("c'est fait", True),
        ("pas encore", False),
    ],
)
def test_a_confirmation_is_read_as_yes_or_not_yet(text: str, value: bool) -> None:
    assert parse_answer(step("worry_postponement", "worry_time_now"), text, "en").value is value


def test_an_unclear_confirmation_is_asked_again() -> None:
    result = parse_answer(step("worry_postponement", "worry_time_now"), "hmm", "fr")
    assert result.reask == "Merci de répondre oui ou pas encore."


def test_text_answers_are_kept_as_written_and_bounded() -> None:
    situation = step("thought_record", "situation")
    assert parse_answer(situation, "  At work,   in the meeting  ", "en").value == "At work, in the meeting"
    assert parse_answer(situation, "...", "en").problem == "text_required"
    assert parse_answer(situation, "ok", "en").problem == "text_too_short"
    too_long = parse_answer(situation, "word " * 400, "en")
    assert too_long.reask == (
        "That's a lot to take in at once. Could you keep it under 1000 characters? The main points are enough."
    )


def test_an_optional_step_can_be_skipped_in_either_language() -> None:
    noticed = step("behavioural_activation", "noticed")
    assert parse_answer(noticed, "skip", "en") == AnswerResult(ok=True, value=None)
    assert parse_answer(noticed, "passer", "fr") == AnswerResult(ok=True, value=None)
    assert parse_answer(noticed, "I felt lighter afterwards", "en").value == "I felt lighter afterwards"


def test_a_required_step_cannot_be_skipped() -> None:
    assert parse_answer(step("thought_record", "situation"), "skip", "en").value == "skip"
    assert not parse_answer(step("thought_record", "emotions_before"), "skip", "en").ok


def test_a_timer_records_the_planned_or_reported_cycles() -> None:
    pacing = step("breathing", "pacing")
    assert parse_answer(pacing, "done", "en").value == {
        "pattern": "4-6",
        "inhale_seconds": 4,
        "hold_seconds": 0,
        "exhale_seconds": 6,
        "cycles": 6,
        "cycles_done": 6,
    }
    result = parse_answer(pacing, "j'en ai fait 4", "fr")
    assert isinstance(result.value, dict) and result.value["cycles_done"] == 4


def test_asking_for_help_returns_the_step_help() -> None:
    result = parse_answer(step("thought_record", "evidence_for"), "what do you mean?", "en")
    assert (result.ok, result.problem) == (False, "help")
    assert result.reask == step("thought_record", "evidence_for").help.en  # type: ignore[union-attr]
    no_help = parse_answer(step("breathing", "calm_before"), "aide", "fr")
    assert no_help.reask == "Prenez votre temps : il n'y a pas de bonne ou de mauvaise réponse."


ODD_INPUTS = [
    "",
    "   ",
    "?!?",
    "🙂🙂🙂",
    "1" * 5000,
    "-5",
    "1e309",
    "NaN",
    "∞",
    "a\x00b",
    "(((",
    "//",
    "%",
    "x" * 20000,
]


@pytest.mark.parametrize("code", sorted(REQUIRED_CODES))
def test_no_client_text_makes_reading_an_answer_fail(code: str) -> None:
    for s in get_exercise(code).steps:
        for text in ODD_INPUTS:
            for locale in ("en", "fr"):
                result = parse_answer(s, text, locale)
                assert result.ok or result.reask


# ---------------------------------------------------------------- showing answers


def test_answers_are_shown_back_as_short_phrases_in_each_language() -> None:
    emotions = [{"emotion": "anxious", "intensity": 80}, {"emotion": "sad", "intensity": 60}]
    assert format_answer(step("thought_record", "emotions_before"), emotions, "en") == "anxious (80) and sad (60)"
    assert format_answer(step("grounding", "hear"), ["a", "b", "c"], "fr") == "a, b et c"
    assert format_answer(step("worry_postponement", "can_act"), "partly", "fr") == "En partie"
    assert format_answer(step("worry_postponement", "worry_time_now"), True, "fr") == "oui"
    assert format_answer(step("behavioural_activation", "noticed"), None, "en") == "(skipped)"
    assert format_answer(step("breathing", "calm_before"), 7.5, "fr") == "7,5"


def test_what_is_expected_is_described_per_kind() -> None:
    assert describe_expected(step("breathing", "calm_before"), "en") == "a number from 0 to 10"
    assert describe_expected(step("worry_postponement", "worry_time_now"), "fr") == "oui ou pas encore"
    assert describe_expected(step("thought_record", "emotions_before"), "fr").startswith("chaque émotion")
    assert step("breathing", "pacing").kind is StepKind.TIMER


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("triste nonante", [{"emotion": "triste", "intensity": 90}]),
        (
            "anxieuse septante-cinq, honte quatre-vingt-dix",
            [{"emotion": "anxieuse", "intensity": 75}, {"emotion": "honte", "intensity": 90}],
        ),
        ("colère huitante", [{"emotion": "colère", "intensity": 80}]),
        (
            "sad ninety, angry seventy-five",
            [{"emotion": "sad", "intensity": 90}, {"emotion": "angry", "intensity": 75}],
        ),
        ("un peu triste 40", [{"emotion": "triste", "intensity": 40}]),
    ],
)
def test_ratings_in_words_are_read_including_belgian_and_swiss_tens(text: str, expected: list[object]) -> None:
    emotions = next(s for s in get_exercise("thought_record").steps if s.kind is StepKind.EMOTION_RATINGS)
    assert parse_answer(emotions, text, "fr").value == expected
