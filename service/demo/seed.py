"""`tandem demo`: a fresh database with two clinics (French and English), clinicians and patients."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlmodel import Session

from service.config import PROJECT_ROOT, Environment, get_settings
from service.db import reset_engine, session_scope, unit_of_work
from service.demo import history as demo_history
from service.exercises import assignments as exercise_assignments
from service.exercises import sessions as exercise_sessions
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.models import Patient, Staff
from service.models.base import utcnow
from service.models.migrate import upgrade
from service.onboarding import activation, clinics, patients, staff
from service.onboarding.consent import current_version

DEMO_DATABASE = PROJECT_ROOT / "var" / "demo.db"
DEMO_EXERCISES = Path(__file__).with_name("exercises.toml")
CLIENT_PASSWORD = "calm-river-lantern-42"
ACTOR = Actor.system("demo")

CLINICS = [
    {
        "name": "Centre Tandem Lyon",
        "locale": "fr",
        "country": "FR",
        "timezone": "Europe/Paris",
        "admin": ("admin@lyon.demo.tandem.care", "Claire Dubois"),
        "clinicians": [("camille.martin@lyon.demo.tandem.care", "Camille Martin")],
        "patients": ["Léa Bernard", "Hugo Moreau", "Chloé Petit", "Nathan Roux", "Manon Fournier", "Louis Girard"],
        # History of each activated patient, in order (history.toml); the last patient is only invited.
        "histories": ["improving", "improving_slowly", "stable", "deteriorating", "improving"],
        "instructions": {
            "fr": "Du lundi au vendredi, 9 h à 18 h : appelez le centre au 04 72 00 00 00.",
            "en": "Monday to Friday, 9 am to 6 pm: call the centre on +33 4 72 00 00 00.",
        },
    },
    {
        "name": "Tandem Riverside Clinic",
        "locale": "en",
        "country": "GB",
        "timezone": "Europe/London",
        "admin": ("admin@riverside.demo.tandem.care", "Priya Shah"),
        "clinicians": [("sam.taylor@riverside.demo.tandem.care", "Sam Taylor")],
        "patients": ["Alex Morgan", "Jordan Lee", "Riley Evans", "Casey Walker", "Morgan Hughes", "Jamie Wright"],
        "histories": ["improving", "concerning", "stable", "improving_slowly", "improving"],
        "instructions": {
            "en": "Weekdays 9am-5pm: call the clinic on 020 7946 0000.",
            "fr": "En semaine de 9 h à 17 h : appelez la clinique au +44 20 7946 0000.",
        },
    },
]


@dataclass
class DemoSummary:
    base_url: str
    staff_logins: list[tuple[str, str, str, str]] = field(default_factory=list)  # clinic, role, email, pw
    client_logins: list[tuple[str, str, str]] = field(default_factory=list)  # name, email, password
    invitations: list[tuple[str, str]] = field(default_factory=list)  # name, code

    def __str__(self) -> str:
        lines = [
            "[bold]Tandem demo[/bold]",
            f"  client app:        {self.base_url}/app/",
            f"  clinician portal:  {self.base_url}/portal/login",
            f"  client API docs:   {self.base_url}/api/docs",
            "",
            "[bold]Staff logins[/bold] (portal; TOTP is off for the demo clinics)",
        ]
        lines += [f"  {c:28} {r:10} {e:42} {p}" for c, r, e, p in self.staff_logins]
        lines += ["", "[bold]Client logins[/bold] (the client app's Sign in, or POST /api/v1/auth/token)"]
        lines += [f"  {n:16} {e:40} {p}" for n, e, p in self.client_logins]
        lines += ["", "[bold]Invitation codes[/bold] (the client app's “I have an invitation code”, or the API)"]
        lines += [f"  {n:16} {c}" for n, c in self.invitations]
        return "\n".join(lines)


def fresh_database() -> None:
    settings = get_settings()
    if settings.env is Environment.PROD:
        raise SystemExit("tandem demo refuses to run with TANDEM_ENV=prod")
    if "database_url" not in settings.model_fields_set:
        settings.database_url = f"sqlite:///{DEMO_DATABASE}"
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        raise SystemExit("tandem demo only builds SQLite databases; unset TANDEM_DATABASE_URL or point it at a file")
    reset_engine()
    if url.database and url.database != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(url.database + suffix).unlink(missing_ok=True)
    upgrade(settings.database_url)


def seed_demo(base_url: str) -> DemoSummary:
    fresh_database()
    summary = DemoSummary(base_url)
    with session_scope() as session:
        for spec in CLINICS:
            _seed_clinic(session, spec, summary)
    return summary


def _seed_clinic(session: Session, spec: dict, summary: DemoSummary) -> list[Patient]:
    made = clinics.create_clinic(
        session,
        name=spec["name"],
        admin_email=spec["admin"][0],
        admin_name=spec["admin"][1],
        locale=spec["locale"],
        country=spec["country"],
        timezone=spec["timezone"],
        mfa_required=False,
        crisis_instructions=spec["instructions"],
        actor=ACTOR,
    )
    clinic = made.clinic
    summary.staff_logins.append((clinic.name, "admin", made.admin.staff.email, made.admin.password))
    clinicians = []
    for email, name in spec["clinicians"]:
        new = staff.add_staff(session, clinic=clinic, email=email, name=name, role="clinician", actor=ACTOR)
        clinicians.append(new.staff)
        summary.staff_logins.append((clinic.name, "clinician", email, new.password))
    domain = spec["admin"][0].split("@")[1]
    enrolled: list[Patient] = []
    for index, name in enumerate(spec["patients"]):
        clinician = clinicians[index % len(clinicians)]
        new_patient = patients.onboard_patient(
            session, clinic_id=clinic.id, clinician=clinician, display_name=name, actor=ACTOR
        )
        if index >= len(spec["patients"]) - 1:
            summary.invitations.append((name, new_patient.invite_code))
            continue
        email = f"{name.split()[0].lower().replace('é', 'e')}@{domain.replace('demo.tandem.care', 'example.org')}"
        activation.activate(
            session,
            invite_code=new_patient.invite_code,
            email=email,
            password=CLIENT_PASSWORD,
            consent_version=current_version(),
        )
        demo_history.seed_history(session, new_patient.patient, spec["histories"][index], seed=index)
        enrolled.append(new_patient.patient)
        summary.client_logins.append((name, email, CLIENT_PASSWORD))
    seed_exercises(session, enrolled)
    return enrolled


def seed_exercises(session: Session, enrolled: list[Patient], *, now: datetime | None = None) -> None:
    """Give each patient the assignments of their plan and three weeks of guided sessions, done
    through the real session service (screening included) on the days they were due."""
    data = tomllib.loads(DEMO_EXERCISES.read_text(encoding="utf-8"))
    now = now or utcnow()
    # One transaction for the whole history: the demo is ready in seconds.
    with unit_of_work(session):
        for index, patient in enumerate(enrolled):
            plan = data["plans"][index % len(data["plans"])]
            for offset, spec in enumerate(plan["exercises"]):
                _seed_assignment(session, patient, spec, data, now, index + offset)


def _seed_assignment(
    session: Session, patient: Patient, spec: dict[str, Any], data: dict[str, Any], now: datetime, seed: int
) -> None:
    clinician = session.get(Staff, patient.clinician_id)
    assert clinician is not None  # foreign key
    lang = pick_locale(patient.locale)
    today = exercise_assignments.local_today(patient, now)
    first_day = today - timedelta(days=int(data["days_back"]))
    note = spec.get("instructions")
    assignment = exercise_assignments.create_assignment(
        session,
        staff=clinician,
        patient_id=patient.id,
        exercise_code=spec["code"],
        every_days=int(spec["every_days"]),
        instructions=data["instructions"][note][lang] if note else None,
        actor=ACTOR,
        now=_local_moment(patient, first_day, 8),
    )
    variants = data["answers"][spec["code"]][lang]
    skip = int(spec.get("skip", 0))
    due = exercise_assignments.schedule_of(assignment).due_dates(first_day, today - timedelta(days=1))
    done = 0
    for number, day in enumerate(due):
        if skip and (number + seed) % skip == skip - 1:
            continue  # missed, as people sometimes do
        moment = _local_moment(patient, day, int(data["session_hour"]))
        _run_session(session, patient, assignment.id, variants[done % len(variants)], moment, finish=True)
        done += 1
    if spec.get("unfinished"):
        answers = variants[done % len(variants)]
        _run_session(session, patient, assignment.id, answers[: len(answers) // 2], now - timedelta(hours=2))


def _run_session(
    session: Session,
    patient: Patient,
    assignment_id: str,
    answers: list[str],
    moment: datetime,
    *,
    finish: bool = False,
) -> None:
    opened = exercise_sessions.start_session(session, patient=patient, assignment_id=assignment_id, now=moment)
    done = opened.done
    for step, answer in enumerate(answers, start=1):
        reply = exercise_sessions.send_message(
            session, patient=patient, session_id=opened.session_id, text=answer, now=moment + timedelta(minutes=step)
        )
        done = reply.done
    if finish and not done:
        raise RuntimeError(f"demo answers do not complete the exercise of assignment {assignment_id}")


def _local_moment(patient: Patient, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZoneInfo(patient.timezone))
