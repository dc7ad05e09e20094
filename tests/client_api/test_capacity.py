"""Under load or a database outage the service says "try again" (503 with Retry-After), never a bare
500, and a client whose words carry a crisis signal always gets the crisis lines."""

from __future__ import annotations

import http.client
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from service.admission import AdmissionMiddleware
from service.models import CheckIn
from tests.factories import active_patient, bearer, create_clinic
from tests.support.server import running_server

URL = "/api/v1/checkins"
CRISIS = {"mood": 1, "note": "I want to kill myself tonight."}
CRISIS_FR = {"mood": 1, "note": "Je veux me suicider ce soir."}
ORDINARY = {"mood": 6, "note": "A calm day."}


def _outage(*_args: object, **_kwargs: object) -> None:
    raise OperationalError("INSERT ...", {}, Exception("could not connect to server"))


@pytest.fixture
def me(session: Session) -> dict[str, str]:
    setup = create_clinic(session, country="FR", locale="fr", slug="capacity")
    _, tokens = active_patient(session, setup, locale="fr", country="FR")
    return bearer(tokens)


def test_a_write_that_fails_on_the_database_is_a_503_that_still_carries_the_clients_crisis_lines(
    client: TestClient, me: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.checkins import service

    monkeypatch.setattr(service, "_create", _outage)
    answer = client.post(URL, json=CRISIS_FR, headers=me)
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) > 0
    crisis = answer.json()["crisis"]
    assert any(line.get("phone") == "3114" for line in crisis["resources"]), crisis  # France's line, in French
    assert "pas encore vu" in crisis["care_team_notice"]
    ordinary = client.post(URL, json=ORDINARY, headers=me)
    assert ordinary.status_code == 503 and ordinary.json()["crisis"] is None


def test_when_even_signing_in_fails_a_crisis_note_gets_the_international_lines(
    client: TestClient, me: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import client_api.deps

    monkeypatch.setattr(client_api.deps, "patient_behind", _outage)
    answer = client.post(URL, json=CRISIS, headers={**me, "Accept-Language": "fr-FR,fr;q=0.9"})
    assert answer.status_code == 503 and answer.headers["Retry-After"]
    body = answer.json()
    assert body["crisis"]["resources"] and "pas encore vu" in body["crisis"]["care_team_notice"]
    ordinary = client.post(URL, json=ORDINARY, headers=me)
    assert ordinary.status_code == 503 and "crisis" not in ordinary.json()
    assert client.get("/api/v1/me", headers=me).status_code == 503


def test_an_unexpected_failure_behind_a_crisis_note_still_answers_with_the_lines(
    client: TestClient, me: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.checkins import service

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "_create", broken)
    answer = TestClient(client.app, raise_server_exceptions=False).post(URL, json=CRISIS, headers=me)
    assert answer.status_code == 503 and answer.json()["crisis"]["resources"]


def _saturated_app() -> tuple[AdmissionMiddleware, TestClient]:
    async def accept(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"ok": True}, status_code=201)

    inner = Starlette(routes=[Route(URL, accept, methods=["POST"]), Route("/api/v1/me", accept)])
    middleware = AdmissionMiddleware(inner, max_in_flight=4)
    middleware.in_flight = 4  # as many requests in flight as the worker takes
    return middleware, TestClient(middleware)


def test_a_saturated_worker_sheds_ordinary_requests_with_503_but_admits_a_crisis_note() -> None:
    middleware, client = _saturated_app()
    shed = client.post(URL, json=ORDINARY)
    assert shed.status_code == 503 and shed.headers["Retry-After"] == "2" and shed.json()["detail"]
    assert client.post("/api/v1/me").status_code == 503
    admitted = client.post(URL, json=CRISIS)
    assert admitted.status_code == 201
    french = client.post(URL, json={"mood": 1, "note": "Je veux me suicider ce soir."})
    assert french.status_code == 201
    middleware.in_flight = 0
    assert client.post(URL, json=ORDINARY).status_code == 201


def test_sqlite_writers_take_turns_so_concurrent_check_ins_all_succeed(client: TestClient, session: Session) -> None:
    setup = create_clinic(session, slug="turns")
    people = [bearer(active_patient(session, setup, email=f"p{n}@example.org")[1]) for n in range(4)]
    statuses: list[int] = []

    def post_many(headers: dict[str, str]) -> None:
        for n in range(5):
            statuses.append(client.post(URL, json={"mood": n}, headers=headers).status_code)

    threads = [threading.Thread(target=post_many, args=(people[n % 4],)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 60
    assert session.exec(select(func.count()).select_from(CheckIn)).one() == 60


def test_serve_refuses_several_workers_on_sqlite(database_url: str) -> None:
    from service.cli import app

    if not database_url.startswith("sqlite"):
        pytest.skip("several workers are for PostgreSQL")
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--no-migrate"])
    assert result.exit_code == 2 and "PostgreSQL" in result.output


def test_a_crisis_request_gets_a_thread_while_every_ordinary_thread_is_busy() -> None:
    import anyio

    from service.admission import CrisisFirstLimiter, crisis_request

    async def scenario() -> list[str]:
        limiter = CrisisFirstLimiter(threads=1, crisis_threads=1)
        order: list[str] = []
        await limiter.ordinary.acquire()  # the only ordinary thread is taken

        async def ordinary() -> None:
            async with limiter:
                order.append("ordinary")

        async def crisis() -> None:
            crisis_request.set(True)
            async with limiter:
                order.append("crisis")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(ordinary)
            tasks.start_soon(crisis)
            await anyio.sleep(0.1)
            assert order == ["crisis"]  # it did not wait behind the ordinary request
            limiter.ordinary.release()
        return order

    assert anyio.run(scenario) == ["crisis", "ordinary"]


@pytest.mark.slow(seconds=10)  # runs `tandem serve` and waits past a client's idle time: started first
def test_an_idle_connection_outlives_a_clients_keep_alive_so_a_reused_one_is_never_dropped(database_url: str) -> None:
    # A client (httpx, a phone's HTTP stack) keeps an idle connection about 5 s and then reuses it;
    # a server that closes it at the same moment loses that request. Ours keeps it open longer.
    with running_server() as base:
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.request("GET", "/healthz")
            first = connection.getresponse()
            assert first.status == 200 and first.read() == b'{"status":"ok"}'
            sock = connection.sock
            time.sleep(6.5)
            connection.request("GET", "/healthz")  # on the same connection: the server must not have closed it
            second = connection.getresponse()
            assert connection.sock is sock
            assert second.status == 200 and second.read() == b'{"status":"ok"}'
        finally:
            connection.close()
