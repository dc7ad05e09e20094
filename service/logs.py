"""Logging for the running service: one line per event, ids only, never client text.

Exception reports keep the traceback's frames (file, line, function) and the exception's type, but
never its message: messages of database, encoding and validation errors quote the values involved
(SQL parameters, the offending text), and those values may be a client's words.
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from service.kit.context import current_request_id

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True


def describe_exception(exc: BaseException) -> str:
    """The exception chain as frames and type names only."""
    lines: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        lines.append(f"{kind.__module__}.{kind.__qualname__} (message withheld)")
        for frame in traceback.extract_tb(current.__traceback__):
            lines.append(f"  at {frame.filename}:{frame.lineno} in {frame.name}")
        current = current.__cause__ or current.__context__
        if current is not None:
            lines.append("caused by or raised while handling:")
    return "\n".join(lines)


class ScrubbingFormatter(logging.Formatter):
    """Formats exceptions without their messages; stack frames (``stack_info``) pass unchanged."""

    def formatException(self, ei: ExcInfo) -> str:  # type: ignore[override]
        exc = ei[1]
        return describe_exception(exc) if exc is not None else ""


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # A server started with uvicorn's own logging configuration gives its loggers their own handlers
    # and stops them propagating: their exception reports would then bypass the scrubbing formatter.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for noisy in ("uvicorn.access", "apscheduler.executors.default"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
