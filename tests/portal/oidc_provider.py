"""A real OpenID provider on loopback for tests (oidc-provider-mock), made to enforce PKCE S256.

The mock itself ignores PKCE, so a small WSGI layer in front of it remembers each authorization
request's code_challenge and refuses a token request whose code_verifier does not match it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import werkzeug.serving
from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # The mock imports Authlib modules that announce their own future deprecations.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    import oidc_provider_mock
    from oidc_provider_mock import User

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@dataclass
class PkceEnforcer:
    app: Callable[[Environ, StartResponse], Iterable[bytes]]
    challenges: dict[str, str] = field(default_factory=dict)  # authorization code -> code_challenge
    authorize_requests: list[dict[str, list[str]]] = field(default_factory=list)
    refused_token_requests: int = 0

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            return self._authorize(environ, start_response)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            return self._token(environ, start_response)
        return self.app(environ, start_response)

    def _authorize(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        self.authorize_requests.append(query)
        if query.get("code_challenge_method") != ["S256"] or not query.get("code_challenge"):
            return _json_error(start_response, "invalid_request", "PKCE with S256 is required")

        def remember_code(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            for name, value in headers:
                if name.lower() == "location":
                    code = parse_qs(urlparse(value).query).get("code")
                    if code:
                        self.challenges[code[0]] = query["code_challenge"][0]
            return start_response(status, headers, *rest)

        return self.app(environ, remember_code)

    def _token(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        form = parse_qs(body.decode())
        code = form.get("code", [""])[0]
        verifier = form.get("code_verifier", [""])[0]
        challenge = self.challenges.pop(code, None)
        if form.get("grant_type") == ["authorization_code"] and (not challenge or s256(verifier) != challenge):
            self.refused_token_requests += 1
            return _json_error(start_response, "invalid_grant", "code_verifier does not match")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _json_error(start_response: StartResponse, error: str, description: str) -> list[bytes]:
    body = json.dumps({"error": error, "error_description": description}).encode()
    start_response("400 Bad Request", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


@dataclass
class RunningProvider:
    issuer: str
    pkce: PkceEnforcer

    def authorize_url_answer(self, authorize_url: str, subject: str) -> str:
        """What a person does on the provider's page: pick ``subject`` and approve; returns the redirect."""
        answer = httpx.post(authorize_url, data={"sub": subject}, follow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def set_user(self, subject: str, claims: dict[str, Any]) -> None:
        httpx.put(f"{self.issuer}/users/{subject}", json=claims, timeout=10).raise_for_status()


@contextmanager
def running_provider(users: Sequence[User] = ()) -> Iterator[RunningProvider]:
    flask_app = oidc_provider_mock.app(user_claims=users, require_nonce=True)
    enforcer = PkceEnforcer(flask_app.wsgi_app)
    flask_app.wsgi_app = enforcer  # type: ignore[method-assign]
    server = werkzeug.serving.make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield RunningProvider(f"http://127.0.0.1:{server.server_port}", enforcer)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
