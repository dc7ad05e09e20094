"""The caseload benchmark's history is like a real clinic's: patients differ. Its questionnaire
totals were once drawn once for everybody, so every patient had the same scores and the
`measures=case` page showed either every patient or none (an empty page)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import Session

from service.caseload import overview
from service.caseload.overview import OverviewFilters
from service.measures.instruments import get_instrument
from tests.benchmarks.bench_caseload import history_statements
from tests.factories import ClinicSetup, active_patient

PATIENTS = 24


def test_the_benchmark_history_gives_each_patient_their_own_scores(session: Session, clinic: ClinicSetup) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the benchmark seeds PostgreSQL only")
    for n in range(PATIENTS):
        active_patient(session, clinic, name=f"Client {n}", email=f"client{n}@example.org")
    session.commit()
    connection = session.connection()
    for statement in history_statements(days=28):
        connection.exec_driver_sql(statement)
    session.commit()

    figures = session.execute(text("SELECT patient_id, phq9_latest, gad7_latest FROM patient_figures")).all()
    assert len(figures) == PATIENTS
    assert len({(phq9, gad7) for _, phq9, gad7 in figures}) > 1  # not one draw shared by everybody

    # The filter the benchmark times shows exactly the patients above a clinical threshold.
    phq9, gad7 = (get_instrument(code).change_rules for code in ("phq9", "gad7"))
    assert phq9 is not None and gad7 is not None
    cases = {pid for pid, p, g in figures if p >= phq9.caseness or g >= gad7.caseness}
    shown = overview.overview(session, staff=clinic.clinician, filters=OverviewFilters(measures="case"))
    assert {row.patient.id for row in shown} == cases
