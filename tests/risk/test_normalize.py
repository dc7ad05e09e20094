import pytest

from service.risk.normalize import Speller, normalize

SPELLER = Speller(fuzzy_words=["suicide", "suicidal", "suicider"], variants={"kil": "kill"}, never_correct=["suicidez"])


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("J’AI ENVIE DE MOURIR", "j'ai envie de mourir"),
        ("idées   suicidaires", "idees suicidaires"),
        ("self-harm", "self harm"),
        ("I want to dieeeee", "i want to die"),
        ("su1cide", "suicide"),
        ("ma sœur", "ma soeur"),
        ("line one\nline two", "line one\nline two"),
    ],
)
def test_messages_are_matched_in_one_plain_form(written, normalised):
    assert normalize(written).text == normalised


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("sucide", "suicide"),
        ("suiside", "suicide"),
        ("sucidal", "suicidal"),
        ("kil", "kill"),
        ("s*icide", "suicide"),
    ],
)
def test_close_misspellings_of_key_words_are_read_as_the_word(written, read_as):
    assert normalize(written, SPELLER).text == read_as


@pytest.mark.parametrize("written", ["suicidez", "suicides", "decide", "suicidera", "s**", "c*t"])
def test_real_forms_and_other_words_are_left_alone(written):
    assert normalize(written, SPELLER).text == written


@pytest.mark.parametrize(
    ("written", "start", "end", "quoted"),
    [
        ("Ma sœur veut mourir", 9, 20, "veut mourir"),
        ("Honnêtement JE VEUX", 12, 19, "JE VEUX"),
        ("want to   dieeee now", 0, 11, "want to   dieeee"),
        ("I have sucidal thoughts", 7, 24, "sucidal thoughts"),
    ],
)
def test_a_normalised_span_maps_back_to_the_original_words(written, start, end, quoted):
    normalized = normalize(written, SPELLER)
    assert normalized.original_span(start, end) == quoted
