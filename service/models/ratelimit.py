from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String
from sqlmodel import Field, SQLModel


class RateLimitBucket(SQLModel, table=True):
    """Attempts counted for one key (a keyed hash of, say, an address and an account) in one window.

    Kept in the database so every replica counts the same attempts; old windows are purged.
    """

    __tablename__ = "rate_limit_bucket"

    key: str = Field(sa_column=Column(String(64), primary_key=True))
    window_start: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    hits: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
