"""Error answers speak the client's language: Accept-Language, else the client's profile, else English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlmodel import Session

import client_api
import service
from client_api.errors import accepted_locale, translate
from client_api.messages import COUNTED_MESSAGES, ERROR_MESSAGES, VALIDATION_MESSAGES
from service.kit.i18n import LOCALES_DIR
from tests.factories import active_patient, bearer, create_clinic

FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}
EN = {"Accept-Language": "en-GB,en;q=0.9"}
NBSP = "\u00a0"
_PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture
def english_client(session: Session) -> dict[str, str]:
    setup = create_clinic(session)
    _, tokens = active_patient(session, setup)
    return bearer(tokens)


@pytest.fixture
def french_client(session: Session) -> dict[str, str]:
    setup = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    _, tokens = active_patient(session, setup, email="lea@example.org", locale="fr")
    return bearer(tokens)


def test_accept_language_picks_the_preferred_supported_language() -> None:
    assert accepted_locale("fr-CA,fr;q=0.9,en;q=0.8") == "fr"
    assert accepted_locale("de-DE,de;q=0.9,fr;q=0.5,en;q=0.4") == "fr"
    assert accepted_locale("en;q=0.2, fr;q=0.8") == "fr"
    assert accepted_locale("fr;q=0, en") == "en"
    assert accepted_locale("de, *;q=0.5") is None
    assert accepted_locale("") is None and accepted_locale(None) is None


def test_wrong_credentials_are_refused_in_the_language_asked(client: TestClient) -> None:
    body = {"email": "nobody@example.org", "password": "not the password"}
    english = client.post("/api/v1/auth/token", json=body, headers=EN)
    french = client.post("/api/v1/auth/token", json=body, headers=FR)
    assert english.status_code == french.status_code == 401
    assert english.json() == {"detail": "email or password is incorrect"}
    assert french.json() == {"detail": "l'e-mail ou le mot de passe est incorrect"}


def test_without_accept_language_a_french_clients_errors_are_in_french(
    client: TestClient, french_client: dict[str, str]
) -> None:
    missing = client.get("/api/v1/checkins/6d3c3a54-4a55-4d0b-a2b4-9a64a1b2c3d4", headers=french_client)
    assert missing.status_code == 404 and missing.json() == {"detail": "aucun relevé de ce type"}
    body = {"mood": 5, "note": "x" * 2001}
    too_long = client.post("/api/v1/checkins", json=body, headers=french_client)
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["msg"] == "La chaîne doit compter au plus 2000 caractères"
    # The header wins over the profile: the app shows the language the client picked on the device.
    english = client.post("/api/v1/checkins", json=body, headers={**french_client, **EN})
    assert english.json()["detail"][0]["msg"] == "String should have at most 2000 characters"
    window = client.get("/api/v1/checkins/trends", params={"days": 3, "from": "2026-01-01"}, headers=french_client)
    assert window.status_code == 422 and window.json() == {"detail": "indiquez soit days, soit from/to, pas les deux"}


def test_an_english_client_reads_english_unless_the_app_asks_for_french(
    client: TestClient, english_client: dict[str, str]
) -> None:
    tags = {"mood": 5, "tags": ["not-a-tag"]}
    english = client.post("/api/v1/checkins", json=tags, headers=english_client)
    assert english.status_code == 422 and english.json()["detail"].startswith("unknown tag ")
    french = client.post("/api/v1/checkins", json=tags, headers={**english_client, **FR})
    assert french.status_code == 422
    assert french.json()["detail"].startswith("étiquette inconnue ")
    assert f"{NBSP}; les étiquettes possibles sont{NBSP}: " in french.json()["detail"]


def test_validation_errors_keep_one_shape_and_speak_the_clients_language(
    client: TestClient, french_client: dict[str, str]
) -> None:
    body = {"mood": 11, "anxiety": "high", "colour": "blue"}
    french = client.post("/api/v1/checkins", json=body, headers=french_client)
    english = client.post("/api/v1/checkins", json=body, headers={**french_client, **EN})
    assert french.status_code == english.status_code == 422
    french_items, english_items = french.json()["detail"], english.json()["detail"]
    assert [(item["loc"], item["type"]) for item in french_items] == [
        (item["loc"], item["type"]) for item in english_items
    ]
    assert all(set(item) == {"loc", "msg", "type"} for item in french_items)
    by_type = {item["type"]: item["msg"] for item in french_items}
    assert by_type["less_than_equal"] == "La valeur doit être inférieure ou égale à 10"
    assert by_type["extra_forbidden"] == "Champ non prévu"
    assert {item["type"]: item["msg"] for item in english_items}["less_than_equal"] == (
        "Input should be less than or equal to 10"
    )
    missing = client.post("/api/v1/checkins", json={}, headers=french_client)
    assert missing.json()["detail"] == [{"loc": ["body", "mood"], "msg": "Champ obligatoire", "type": "missing"}]


def test_a_measure_answer_out_of_range_is_explained_in_french(
    client: TestClient, french_client: dict[str, str]
) -> None:
    answer = client.post("/api/v1/measures/phq9/responses", json={"answers": [0] * 8 + [7]}, headers=french_client)
    assert answer.status_code == 422
    assert answer.json()["detail"] == (
        f"PHQ-9, question 9{NBSP}: la réponse doit être comprise entre 0 et 3{NBSP}; reçu{NBSP}: 7"
    )


def test_a_value_the_client_sent_is_not_echoed_in_either_language(
    client: TestClient, english_client: dict[str, str]
) -> None:
    body = {"locale": "fr", "timezone": "Mars/Olympus_Mons"}
    french = client.patch("/api/v1/me", json=body, headers={**english_client, **FR})
    assert french.status_code == 422, french.text
    assert french.json()["detail"] == (
        f"fuseau horaire inconnu (la valeur envoyée){NBSP}; utilisez un nom IANA comme Europe/Paris"
    )
    assert "Olympus" not in french.text


def test_signed_out_errors_follow_accept_language(client: TestClient) -> None:
    assert client.get("/api/v1/me", headers=FR).json() == {
        "detail": "jeton d'accès manquant (en-tête HTTP Authorization avec le schéma Bearer)"
    }
    assert client.get("/api/v1/me").json() == {"detail": "missing bearer access token"}
    bad = client.get("/api/v1/me", headers={**FR, "Authorization": "Bearer nonsense"})
    assert bad.status_code == 401 and bad.json() == {"detail": "jeton d'accès invalide ou expiré"}
    assert client.get("/api/v1/nowhere", headers=FR).json() == {"detail": "introuvable"}


# --- the catalog -----------------------------------------------------------------------------------

# Modules whose refusals a client can meet through the API (staff-only and command-line modules are
# checked by the portal's catalog test or not shown to a person at all).
CLIENT_FACING = [
    "client_api",
    "service/kit/hygiene.py",
    "service/kit/pagination.py",
    "service/kit/idempotency.py",
    "service/kit/timing.py",
    "service/kit/i18n.py",
    "service/checkins",
    "service/measures/scoring.py",
    "service/measures/instruments.py",
    "service/measures/service.py",
    "service/safety_plan/service.py",
    "service/reminders",
    "service/security/passwords.py",
    "service/security/tokens.py",
    "service/security/client_sessions.py",
    "service/security/rate_limits.py",
    "service/onboarding/activation.py",
    "service/onboarding/invitations.py",
    "service/onboarding/password_reset.py",
    "service/onboarding/consent/__init__.py",
]
_ERRORS = {"NotFound", "Forbidden", "Conflict", "Invalid", "Unauthenticated", "RateLimited"}
# ValueError reaches a client only from a schema's validators (Pydantic makes it a 422 item); elsewhere
# it is a programming error, never an answer.
_VALIDATOR_FILES = {"schemas.py", "hygiene.py"}
# Written in every language (service.kit.i18n.Multilingual: the answer follows the request's language),
# or, for "_message", the 503 whose crisis lines are in the client's own language.
_SKIPPED_CALLERS = {"_refusal", "_message", "care_ended"}
_REASONS = ["contains characters that are not valid Unicode", "contains control characters", "must be a single line"]
# Messages put together from pieces: each piece the service can use.
_COMPOSED = {
    "f'{field} {problem}'": [f"note {reason}" for reason in _REASONS],
    "f'text {problem}'": [f"text {reason}" for reason in _REASONS],
}


def _client_facing_files() -> list[Path]:
    root = Path(service.__file__).parent.parent
    files: list[Path] = []
    for entry in CLIENT_FACING:
        path = root / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def _string_constants(trees: list[ast.Module]) -> dict[str, str]:
    constants: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                        constants[target.id] = node.value.value
    return constants


def _raised_messages() -> list[tuple[str, str]]:
    """Every message a client-facing module raises, with a sample value in each hole."""
    root = Path(service.__file__).parent.parent
    files = _client_facing_files()
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in files]
    constants = _string_constants(trees)
    found: list[tuple[str, str]] = []
    for path, tree in zip(files, trees, strict=True):
        kinds = _ERRORS | ({"ValueError"} if path.name in _VALIDATOR_FILES else set())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in kinds):
                continue
            if not node.args:
                continue
            where = f"{path.relative_to(root)}:{node.lineno}"
            message = node.args[0]
            source = ast.unparse(message)
            if source in _COMPOSED:
                found.extend((where, text) for text in _COMPOSED[source])
            elif isinstance(message, ast.Call) and getattr(message.func, "id", None) in _SKIPPED_CALLERS:
                continue
            elif isinstance(message, ast.Name) and message.id == "detail":
                continue  # composed just above from listed pieces (measures scoring)
            else:
                found.append((where, _sample(message, constants)))
    return found


def _sample(message: ast.expr, constants: dict[str, str]) -> str:
    if isinstance(message, ast.Constant) and isinstance(message.value, str):
        return message.value
    if isinstance(message, ast.JoinedStr):
        return "".join(_sample(part, constants) for part in message.values)
    if isinstance(message, ast.BinOp) and isinstance(message.op, ast.Add):
        return _sample(message.left, constants) + _sample(message.right, constants)
    if isinstance(message, ast.Name) and message.id in constants:
        return constants[message.id]
    if isinstance(message, ast.Attribute) and message.attr in constants:
        return constants[message.attr]
    return "VALUE"


def test_every_client_facing_refusal_is_listed_and_has_french() -> None:
    raised = _raised_messages()
    assert len(raised) > 60
    untranslated = [(where, text) for where, text in raised if translate(text, "fr") == text]
    assert untranslated == []


def test_every_listed_message_has_a_french_translation_with_the_same_placeholders() -> None:
    with (LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    problems = []
    for message in [*ERROR_MESSAGES, *VALIDATION_MESSAGES.values()]:
        entry = catalog.get(message)
        if entry is None or not entry.string:
            problems.append(f"untranslated: {message!r}")
        elif sorted(_PLACEHOLDER.findall(entry.string)) != sorted(_PLACEHOLDER.findall(message)):
            problems.append(f"placeholders differ: {message!r}")
    for singular, _plural, _count in COUNTED_MESSAGES.values():
        entry = catalog.get(singular)
        if entry is None or not all(entry.string):
            problems.append(f"untranslated: {singular!r}")
    assert problems == []
    assert Path(client_api.__file__).parent.joinpath("messages.py").exists()


def test_a_discharged_clients_refusal_follows_accept_language_like_the_others(
    client: TestClient, session: Session
) -> None:
    from service.caseload.care import discharge
    from tests.factories import CLIENT_PASSWORD

    setup = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    lea, _ = active_patient(session, setup, email="lea@example.org", locale="fr")
    discharge(session, staff=setup.clinician, patient_id=lea.id, reason="completed")
    body = {"email": "lea@example.org", "password": CLIENT_PASSWORD}
    english = client.post("/api/v1/auth/token", json=body, headers=EN)
    assert english.status_code == 403 and english.json()["detail"].startswith("Your care in Tandem has ended")
    french = client.post("/api/v1/auth/token", json=body)  # no header: the profile's language
    assert french.status_code == 403 and french.json()["detail"].startswith("Votre suivi dans Tandem")
