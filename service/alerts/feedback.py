"""Clinician feedback on alerts: "confirmed concern" or "not a concern" (with a reason) when
resolving, the positive predictive value per rule and for the model over the last 90 days, and the
labelled, de-identified examples for the screener's next training round."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlmodel import Session, col, select

from service import audit
from service.alerts.policy import _PATH
from service.config import get_settings
from service.db import unit_of_work
from service.errors import Forbidden, Invalid
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.models import Alert, AlertFeedback, AlertSignal, CheckIn, Patient, Role, Staff
from service.models.base import utcnow

WINDOW_DAYS = 90
CONFIRMED = "confirmed"
NOT_A_CONCERN = "not_a_concern"
MODEL = "model"


@cache
def _feedback_file() -> dict[str, dict[str, dict[str, str]]]:
    return tomllib.loads(_PATH.read_text(encoding="utf-8"))["feedback"]


def verdict_choices(locale: str) -> list[tuple[str, str]]:
    return [(code, labels[pick_locale(locale)]) for code, labels in _feedback_file()["verdicts"].items()]


def reason_choices(locale: str) -> list[tuple[str, str]]:
    return [(code, labels[pick_locale(locale)]) for code, labels in _feedback_file()["reasons"].items()]


def check(verdict: str | None, reason: str | None) -> tuple[str, str | None] | None:
    """A valid (verdict, reason), None when no verdict was given; Invalid otherwise."""
    if not verdict:
        return None
    if verdict not in _feedback_file()["verdicts"]:
        raise Invalid("say whether the concern was confirmed or not")
    if verdict == NOT_A_CONCERN:
        if not reason or reason not in _feedback_file()["reasons"]:
            raise Invalid("say why it was not a concern")
        return verdict, reason
    return verdict, None


def record(session: Session, *, alert: Alert, staff: Staff, verdict: str, reason: str | None, now: datetime) -> None:
    """Inside the resolving transaction: one verdict per alert."""
    session.add(
        AlertFeedback(
            alert_id=alert.id,
            clinic_id=alert.clinic_id,
            verdict=verdict,
            reason=reason,
            staff_id=staff.id,
            created_at=now,
        )
    )


# --- PPV per rule -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFigures:
    rule: str
    raised: int
    """Alerts in the window with a signal from this rule (or the model)."""
    labelled: int
    confirmed: int

    @property
    def ppv(self) -> float | None:
        """Confirmed among the labelled ones; None before any label."""
        return self.confirmed / self.labelled if self.labelled else None


def _rule_key(rule: str) -> str:
    return MODEL if rule.startswith(MODEL) else rule


def _alerts_with_rules(session: Session, clinic_id: str | None, since: datetime) -> dict[str, set[str]]:
    query = (
        select(AlertSignal.alert_id, AlertSignal.evidence_json)
        .join(Alert, col(Alert.id) == AlertSignal.alert_id)
        .where(col(Alert.created_at) >= since)
    )
    if clinic_id is not None:
        query = query.where(Alert.clinic_id == clinic_id)
    rules: dict[str, set[str]] = {}
    for alert_id, evidence_json in session.exec(query).all():
        for item in json.loads(evidence_json):
            rules.setdefault(alert_id, set()).add(_rule_key(str(item.get("rule", "unknown"))))
    return rules


def ppv_by_rule(session: Session, *, staff: Staff, now: datetime | None = None) -> list[RuleFigures]:
    """Per rule and for the model, over the last 90 days of the admin's clinic. Audited."""
    if staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can read the screening figures")
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    with unit_of_work(session):
        rules = _alerts_with_rules(session, staff.clinic_id, since)
        verdicts = dict(
            session.exec(
                select(AlertFeedback.alert_id, AlertFeedback.verdict).where(
                    col(AlertFeedback.alert_id).in_(list(rules))
                )
            ).all()
        )
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="screening.figures",
            entity_type="clinic",
            entity_id=staff.clinic_id,
            clinic_id=staff.clinic_id,
        )
    counts: dict[str, list[int]] = {}
    for alert_id, names in rules.items():
        for name in names:
            raised, labelled, confirmed = counts.setdefault(name, [0, 0, 0])
            verdict = verdicts.get(alert_id)
            counts[name] = [raised + 1, labelled + (verdict is not None), confirmed + (verdict == CONFIRMED)]
    figures = [RuleFigures(rule, *values) for rule, values in counts.items()]
    return sorted(figures, key=lambda f: (f.rule != MODEL, -f.raised, f.rule))


# --- export for training ------------------------------------------------------------------------


def _hashed(kind: str, value: str) -> str:
    key = hashlib.sha256(("tandem-feedback-export:" + get_settings().secret_key).encode()).digest()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:16]


def _without_names(text: str, names: list[str]) -> str:
    for name in names:
        for part in {name, *name.split()}:
            if len(part) >= 2:
                text = re.sub(rf"\b{re.escape(part)}\b", "[name]", text, flags=re.IGNORECASE)
    return text


def export_examples(
    session: Session, *, now: datetime | None = None, days: int = WINDOW_DAYS
) -> Iterator[dict[str, Any]]:
    """Every labelled signal of the last ``days`` days as a training example: the client's words
    with their names removed, the verdict, the rules; ids hashed with a key derived from the secret."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = session.exec(
        select(AlertFeedback, Alert, AlertSignal, Patient)
        .join(Alert, col(Alert.id) == AlertFeedback.alert_id)
        .join(AlertSignal, col(AlertSignal.alert_id) == Alert.id)
        .join(Patient, col(Patient.id) == Alert.patient_id)
        .where(col(AlertFeedback.created_at) >= since)
        .order_by(col(AlertSignal.created_at))
    ).all()
    staff_names = [s.name for s in session.exec(select(Staff)).all()]
    for feedback, alert, signal, patient in rows:
        evidence = json.loads(signal.evidence_json)
        text = None
        if signal.source_type == "checkin" and signal.source_id:
            checkin = session.get(CheckIn, signal.source_id)
            text = checkin.note if checkin is not None else None
        names = [patient.display_name, *staff_names]
        yield {
            "example": _hashed("signal", signal.id),
            "alert": _hashed("alert", alert.id),
            "client": _hashed("patient", patient.id),
            "lang": pick_locale(patient.locale),
            "source_type": signal.source_type,
            "level": signal.level,
            "categories": list(signal.categories),
            "rules": sorted({str(item.get("rule")) for item in evidence}),
            "matched": [_without_names(str(item.get("text", "")), names) for item in evidence],
            "text": _without_names(text, names) if text else None,
            "label": feedback.verdict,
            "reason": feedback.reason,
            "engine_version": signal.engine_version,
        }
