"""OpenID Connect sign-in against a small provider on loopback that signs real RS256 id_tokens.

The provider is test scaffolding (discovery, authorize, token, JWKS); the client side is authlib's,
as in production: metadata fetched, the code exchanged over HTTP, the id_token's signature, issuer,
audience and nonce checked.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from ingest.settings import Settings
from search_api.app import create_app

CLIENT_ID = "speurder-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Provider:
    def __init__(self, port: int, username: str) -> None:
        self.issuer = f"http://127.0.0.1:{port}"
        self.username = username
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"}, private=True)
        self.nonces: dict[str, str] = {}
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
                Route("/jwks", self.jwks),
            ]
        )

    async def discovery(self, _request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def authorize(self, request: Request) -> RedirectResponse:
        code = uuid.uuid4().hex
        self.nonces[code] = request.query_params["nonce"]
        query = urlencode({"code": code, "state": request.query_params["state"]})
        return RedirectResponse(f"{request.query_params['redirect_uri']}?{query}")

    async def token(self, request: Request) -> JSONResponse:
        form = await request.form()
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": f"sub-{self.username}",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonces.pop(str(form["code"])),
            "preferred_username": self.username,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        return JSONResponse({"access_token": uuid.uuid4().hex, "token_type": "Bearer", "id_token": id_token})

    async def jwks(self, _request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})


@pytest.fixture()
def provider() -> Iterator[Provider]:
    port = free_port()
    provider = Provider(port, "rechercheur")
    server = uvicorn.Server(uvicorn.Config(provider.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield provider
    server.should_exit = True
    thread.join(timeout=10)


def sign_in(client: TestClient) -> httpx.Response:
    to_provider = client.get("/login/oidc", follow_redirects=False)
    assert to_provider.status_code in {302, 303, 307}, to_provider.text
    back = httpx.get(to_provider.headers["location"], follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    assert parse_qs(callback.query)["code"]
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_a_known_user_signs_in_through_the_provider(
    app_client: TestClient, profile: Settings, provider: Provider
) -> None:
    settings = profile.model_copy(
        update={
            "oidc_metadata_url": f"{provider.issuer}/.well-known/openid-configuration",
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr("test-secret"),
        }
    )
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as client:
        assert "/login/oidc" in client.get("/login").text
        done = sign_in(client)
        assert done.status_code == 303 and done.headers["location"] == "/search"
        assert client.get("/search").context["principal"].username == "rechercheur"  # type: ignore[attr-defined]

        provider.username = "onbekende-agent"  # an identity Speurder has no account for
        client.cookies.clear()
        refused = sign_in(client)
        assert refused.status_code == 403
        assert client.get("/api/search", params={"q": "x"}).status_code == 401
