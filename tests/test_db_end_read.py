"""Ending a dependency's read: the connection goes back without a commit, and never loses a write."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from service.db import end_read, get_engine, new_session, unit_of_work
from service.models import Clinic
from tests.factories import create_clinic


@pytest.fixture
def commits(session: Session) -> Iterator[list[object]]:
    seen: list[object] = []

    def on_commit(conn: object) -> None:
        seen.append(conn)

    event.listen(get_engine(), "commit", on_commit)
    yield seen
    event.remove(get_engine(), "commit", on_commit)


def test_a_read_ends_without_a_commit_and_its_rows_stay_loaded(session: Session, commits: list[object]) -> None:
    clinic_id = create_clinic(session, name="Harbour Clinic").clinic.id
    commits.clear()
    with new_session() as reader:
        clinic = reader.get(Clinic, clinic_id)
        assert clinic is not None and reader.in_transaction()
        end_read(reader)
        assert not reader.in_transaction()  # the connection is back in the pool
        assert "name" in clinic.__dict__  # not expired: reading it needs no new query
        assert clinic.name == "Harbour Clinic" and not reader.in_transaction()
    assert commits == []


def test_a_write_left_pending_by_a_read_is_committed_not_dropped(session: Session) -> None:
    clinic_id = create_clinic(session, name="Harbour Clinic").clinic.id
    with new_session() as reader:
        clinic = reader.get(Clinic, clinic_id)
        assert clinic is not None
        clinic.name = "Harbour Clinic (renamed)"
        reader.flush()  # flushed, so no longer "dirty": still a write of this transaction
        end_read(reader)
    with new_session() as check:
        assert check.exec(select(Clinic.name).where(Clinic.id == clinic_id)).one() == "Harbour Clinic (renamed)"


def test_a_read_after_a_unit_of_work_ends_quietly(session: Session, commits: list[object]) -> None:
    clinic_id = create_clinic(session, name="Harbour Clinic").clinic.id
    with new_session() as worker:
        with unit_of_work(worker):
            clinic = worker.get(Clinic, clinic_id)
            assert clinic is not None
            clinic.name = "Harbour"
        commits.clear()
        assert worker.get(Clinic, clinic_id) is not None
        end_read(worker)
    assert commits == []
