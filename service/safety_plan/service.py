"""The client's safety plan (Stanley-Brown): written with the clinician in the portal, read and
edited by the client in the app, shown in every crisis and support block.

Every save adds a version (the older ones are kept: who changed which section, when) and an audit
row, in one transaction. The sections' text is the client's own words: encrypted at rest, and
never in logs or audit details (section codes only).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.errors import Invalid
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.models import Patient, SafetyPlanVersion
from service.models.base import utcnow
from service.safety_plan.schemas import MAX_ITEM_CHARS, MAX_ITEMS, SafetyPlanOut, SectionOut

SECTIONS_FILE = Path(__file__).with_name("sections.toml")


@cache
def _sections() -> dict[str, dict[str, dict[str, str]]]:
    return tomllib.loads(SECTIONS_FILE.read_text(encoding="utf-8"))


def section_codes() -> list[str]:
    """The codes in the plan's order (warning signs first, reasons for living last)."""
    return list(_sections())


def section_title(code: str, locale: str) -> str:
    return _sections()[code]["title"][pick_locale(locale)]


def section_prompt(code: str, locale: str) -> str:
    return _sections()[code]["prompt"][pick_locale(locale)]


@dataclass(frozen=True)
class Plan:
    """One version of a plan, decrypted: items by section code, in the plan's order."""

    version: int
    items: dict[str, list[str]]
    author_type: str | None
    author_id: str | None
    changed: list[str]
    created_at: datetime | None

    @property
    def is_empty(self) -> bool:
        return not any(self.items.values())

    def out(self, locale: str) -> SafetyPlanOut:
        return SafetyPlanOut(
            version=self.version,
            updated_at=self.created_at,
            sections=[
                SectionOut(
                    code=code,
                    title=section_title(code, locale),
                    prompt=section_prompt(code, locale),
                    items=list(self.items.get(code, [])),
                )
                for code in section_codes()
            ],
        )


EMPTY = Plan(version=0, items={}, author_type=None, author_id=None, changed=[], created_at=None)


def _plan(row: SafetyPlanVersion) -> Plan:
    stored = json.loads(row.sections_json)
    return Plan(
        version=row.version,
        items={code: list(stored.get(code, [])) for code in section_codes()},
        author_type=row.author_type,
        author_id=row.author_id,
        changed=list(row.changed),
        created_at=row.created_at,
    )


def current(session: Session, *, patient_id: str) -> Plan:
    """The latest version, or EMPTY (version 0) when the client has none."""
    row = latest_row(session, patient_id=patient_id)
    return _plan(row) if row is not None else EMPTY


def latest_row(session: Session, *, patient_id: str) -> SafetyPlanVersion | None:
    return session.exec(
        select(SafetyPlanVersion)
        .where(SafetyPlanVersion.patient_id == patient_id)
        .order_by(col(SafetyPlanVersion.version).desc())
        .limit(1)
    ).first()


def versions(session: Session, *, patient_id: str) -> list[Plan]:
    """Every version, newest first."""
    rows = session.exec(
        select(SafetyPlanVersion)
        .where(SafetyPlanVersion.patient_id == patient_id)
        .order_by(col(SafetyPlanVersion.version).desc())
    ).all()
    return [_plan(row) for row in rows]


def clean_sections(sections: Iterable[tuple[str, Iterable[str]]]) -> dict[str, list[str]]:
    """Check codes and items: an unknown or repeated code, too many or too long items is Invalid."""
    known = set(section_codes())
    cleaned: dict[str, list[str]] = {}
    for code, items in sections:
        if code not in known:
            raise Invalid(f"unknown safety plan section {code!r}; use one of {', '.join(section_codes())}")
        if code in cleaned:
            raise Invalid(f"the section {code!r} is given twice")
        kept = [" ".join(item.split()) for item in items]
        kept = [item for item in kept if item]
        if len(kept) > MAX_ITEMS:
            raise Invalid("a section holds at most 20 items")
        if any(len(item) > MAX_ITEM_CHARS for item in kept):
            raise Invalid("an item must be at most 500 characters")
        if any(not item.isprintable() for item in kept):
            raise Invalid("an item must not contain control characters")
        cleaned[code] = kept
    assert (MAX_ITEMS, MAX_ITEM_CHARS) == (20, 500), "update the messages above"
    return cleaned


def save(session: Session, *, patient: Patient, actor: Actor, sections: Mapping[str, list[str]]) -> tuple[Plan, bool]:
    """Save the sections given (checked with clean_sections); the others stay as they were.

    Returns the plan and whether a new version was written (nothing changed: no new version).
    Works inside the caller's transaction.
    """
    before = current(session, patient_id=patient.id)
    items = {code: list(before.items.get(code, [])) for code in section_codes()}
    items.update(sections)
    changed = [code for code in section_codes() if items[code] != before.items.get(code, [])]
    if not changed:
        return before, False
    row = SafetyPlanVersion(
        patient_id=patient.id,
        version=before.version + 1,
        sections_json=json.dumps(items, ensure_ascii=False),
        changed=changed,
        author_type=actor.kind,
        author_id=actor.id or "",
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="safety_plan.update",
        entity=row,
        patient_id=patient.id,
        clinic_id=patient.clinic_id,
        detail={"version": row.version, "changed": changed},
    )
    return _plan(row), True


def read_for_client(session: Session, *, patient: Patient) -> SafetyPlanOut:
    """GET /api/v1/safety-plan: the client's own plan (version 0 and empty items when none)."""
    return current(session, patient_id=patient.id).out(patient.locale)


def write_for_client(
    session: Session, *, patient: Patient, sections: Iterable[tuple[str, Iterable[str]]]
) -> SafetyPlanOut:
    """PUT /api/v1/safety-plan: the client edits their plan; unknown codes change nothing."""
    cleaned = clean_sections(sections)
    with unit_of_work(session):
        plan, _ = save(session, patient=patient, actor=Actor.client(patient), sections=cleaned)
    return plan.out(patient.locale)


def crisis_block_plan(session: Session, *, patient: Patient) -> dict[str, object] | None:
    """The plan as the crisis and support blocks carry it (`crisis.safety_plan`), or None when
    the client has none: the sections that hold something, in the plan's order."""
    return crisis_block_plan_of(patient, latest_row(session, patient_id=patient.id))


def crisis_block_plan_of(patient: Patient, row: SafetyPlanVersion | None) -> dict[str, object] | None:
    """`crisis_block_plan` from the plan's latest version already read (the crisis path reads it
    with the care team, in one statement)."""
    plan = _plan(row) if row is not None else EMPTY
    if plan.is_empty:
        return None
    out = plan.out(patient.locale).model_dump(mode="json")
    out["sections"] = [section for section in out["sections"] if section["items"]]
    return out
