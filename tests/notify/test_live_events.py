from __future__ import annotations

import asyncio
import time

import pytest
from sqlmodel import Session

from service.config import get_settings
from service.db import unit_of_work
from service.notify import broker, publish
from service.notify.events import PostgresListener
from service.scheduler import Leadership


def _collect(session: Session, *commits: bool) -> list[dict]:
    """The events clinic-1's page receives from one transaction per item of ``commits`` (True: it
    commits, False: it rolls back), all on one session; alert ids "A" (then "A2", "A3"...)."""

    async def run() -> list[dict]:
        subscription = broker.subscribe("clinic-1")
        listener = None
        if not get_settings().is_sqlite:
            listener = PostgresListener(get_settings().database_url)
            listener.start()
            await asyncio.to_thread(listener.ready.wait, 10)
        try:
            for n, commit in enumerate(commits, start=1):
                suffix = str(n) if n > 1 else ""
                try:
                    with unit_of_work(session):
                        publish(session, clinic_id="clinic-1", kind="alert.created", data={"alert_id": "A" + suffix})
                        publish(session, clinic_id="clinic-2", kind="alert.created", data={"alert_id": "B" + suffix})
                        if not commit:
                            raise RuntimeError("rolled back")
                except RuntimeError:
                    pass
            got = []
            try:
                while True:
                    got.append(await asyncio.wait_for(subscription.queue.get(), timeout=1.5))
            except TimeoutError:
                return got
        finally:
            broker.unsubscribe(subscription)
            if listener is not None:
                listener.stop()

    return asyncio.run(run())


def test_committed_events_reach_only_the_clinics_pages(session: Session) -> None:
    events = _collect(session, True)
    assert [e["data"]["alert_id"] for e in events] == ["A"]


def test_rolled_back_changes_announce_nothing(session: Session) -> None:
    assert _collect(session, False) == []


def test_every_transaction_of_a_session_announces_its_own_events(session: Session) -> None:
    # A job that commits alert after alert on one session: each commit reaches the page, not the first only.
    events = _collect(session, True, False, True, True)
    assert [e["data"]["alert_id"] for e in events] == ["A", "A3", "A4"]


def _announced(session: Session, scenario) -> list[str]:  # type: ignore[no-untyped-def]
    """The alert ids this process's observers hear from ``scenario(session)``, then from a last
    committed "end" (every earlier commit's events arrive before it, on PostgreSQL by LISTEN too)."""
    import threading

    heard: list[str] = []
    ended = threading.Event()

    def observe(events: list[dict]) -> None:
        for event in events:
            heard.append(event["data"]["alert_id"])
            if event["data"]["alert_id"] == "end":
                ended.set()

    listener = None
    if not get_settings().is_sqlite:
        listener = PostgresListener(get_settings().database_url)
        listener.start()
        assert listener.ready.wait(10)
    broker.observe(observe)
    try:
        scenario(session)
        with unit_of_work(session):
            publish(session, clinic_id="clinic-1", kind="alert.created", data={"alert_id": "end"})
        assert ended.wait(10)
    finally:
        broker.unobserve(observe)
        if listener is not None:
            listener.stop()
    return heard[:-1]


def _event(session: Session, alert_id: str) -> None:
    publish(session, clinic_id="clinic-1", kind="alert.created", data={"alert_id": alert_id})


def test_a_savepoint_announces_nothing_before_the_outer_commit_nor_what_it_rolled_back(session: Session) -> None:
    def scenario(session: Session) -> None:
        # Released savepoint, then the whole transaction rolls back: nothing was announced.
        with pytest.raises(RuntimeError), unit_of_work(session):
            _event(session, "outer-rolled-back")
            with session.begin_nested():
                _event(session, "inner-released")
            raise RuntimeError("rolled back")
        # A savepoint rolled back inside a transaction that commits: its event only is forgotten.
        with unit_of_work(session):
            _event(session, "before")
            savepoint = session.begin_nested()
            _event(session, "inside-rolled-back")
            savepoint.rollback()
            _event(session, "after")

    assert _announced(session, scenario) == ["before", "after"]


def test_a_transaction_closed_without_a_commit_leaves_nothing_for_the_next(session: Session) -> None:
    def scenario(session: Session) -> None:
        _event(session, "abandoned")
        session.close()

    assert _announced(session, scenario) == []


def test_only_one_replica_leads_the_scheduler(database_url: str) -> None:
    first, second = Leadership(database_url), Leadership(database_url)
    try:
        if get_settings().is_sqlite:
            assert first.is_leader() and second.is_leader()  # one process, nothing to share
            return
        assert first.is_leader()
        assert not second.is_leader()
        first.release()  # the leader goes away...
        assert second.is_leader()  # ...and another replica takes over
        assert not first.is_leader()
    finally:
        first.release()
        second.release()


def test_the_app_runs_with_its_scheduler_and_stops_cleanly(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from service.app import create_app

    monkeypatch.setenv("TANDEM_SCHEDULER_ENABLED", "true")
    get_settings.cache_clear()
    with TestClient(create_app()) as http:
        # On PostgreSQL the replica is ready once its listener has connected, a moment after
        # start-up; a load balancer polls /readyz for that, and so does this test.
        deadline = time.monotonic() + 10
        answer = http.get("/readyz")
        while answer.status_code == 503 and answer.json().get("live_events") and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = http.get("/readyz")
        assert (answer.status_code, answer.json()) == (200, {"status": "ready", "database": "ok"})


def test_a_transactions_events_reach_the_page_together_in_order(session: Session) -> None:
    async def run() -> list[list[str]]:
        subscription = broker.subscribe("clinic-1")
        listener = None
        if not get_settings().is_sqlite:
            listener = PostgresListener(get_settings().database_url)
            listener.start()
            await asyncio.to_thread(listener.ready.wait, 10)
        try:
            with unit_of_work(session):
                for n in range(300):  # more than one NOTIFY payload holds
                    publish(session, clinic_id="clinic-1", kind="alert.updated", data={"alert_id": f"A{n}"})
            wakes = []
            try:
                while True:
                    first = await asyncio.wait_for(subscription.queue.get(), timeout=1.5)
                    together = [first]  # what a feed finds when it wakes: the ones queued behind it
                    while not subscription.queue.empty():
                        together.append(subscription.queue.get_nowait())
                    wakes.append([e["data"]["alert_id"] for e in together])
            except TimeoutError:
                return wakes
        finally:
            broker.unsubscribe(subscription)
            if listener is not None:
                listener.stop()

    wakes = asyncio.run(run())
    assert [alert for wake in wakes for alert in wake] == [f"A{n}" for n in range(300)]
    assert len(wakes) <= 6  # a few NOTIFY payloads at most, never an event at a time


def test_notify_payloads_stay_under_postgresqls_limit() -> None:
    from service.notify.events import NOTIFY_PAYLOAD_BYTES, _payloads, _received

    events = [{"clinic_id": "c", "kind": "alert.updated", "data": {"alert_id": f"{n:036d}"}} for n in range(500)]
    payloads = _payloads(events)
    assert len(payloads) > 1 and all(len(p.encode()) <= NOTIFY_PAYLOAD_BYTES for p in payloads)
    assert [e for p in payloads for e in _received(p)] == events
    assert _received('{"clinic_id": "c", "kind": "k"}') == [{"clinic_id": "c", "kind": "k"}]  # an older replica's
