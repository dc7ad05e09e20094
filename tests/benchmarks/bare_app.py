"""The yardstick of the load benchmark: a bare FastAPI + SQLModel app that inserts one check-in-like
row per POST, with the same server, threads and database as Tandem, and nothing else (no auth,
no screening, no audit). `bench_load.py --bare-seconds N` compares Tandem's ordinary check-in with it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import anyio.to_thread
from fastapi import FastAPI
from pydantic import BaseModel
from sqlmodel import Field, Session, SQLModel, create_engine


class BareCheckin(SQLModel, table=True):
    __tablename__ = "bare_checkin"

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    patient_id: str = Field(max_length=36, index=True)
    recorded_at: datetime
    local_date: date
    mood: int
    note: str | None = None


class CheckinIn(BaseModel):
    mood: int
    note: str | None = None


def create_app() -> FastAPI:
    threads = int(os.environ.get("BARE_THREADS", "20"))
    engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=threads + 6, max_overflow=10, pool_pre_ping=True)
    SQLModel.metadata.create_all(engine, tables=[BareCheckin.__table__])  # type: ignore[list-item]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/ready")
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/checkins", status_code=201)
    def post(body: CheckinIn) -> dict[str, str]:
        now = datetime.now(UTC)
        row = BareCheckin(patient_id="bare", recorded_at=now, local_date=now.date(), mood=body.mood, note=body.note)
        with Session(engine) as session:
            session.add(row)
            session.commit()
            return {"id": row.id}

    return app
