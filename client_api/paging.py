"""How list endpoints hand out the next page: the body stays a plain list, the cursor rides in headers."""

from __future__ import annotations

from fastapi import Request, Response


def add_next_page(request: Request, response: Response, next_cursor: str | None) -> None:
    if next_cursor is None:
        return
    response.headers["X-Next-Cursor"] = next_cursor
    response.headers["Link"] = f'<{request.url.include_query_params(cursor=next_cursor)}>; rel="next"'
