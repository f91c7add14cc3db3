"""A fake OpenID Connect provider on 127.0.0.1 (Google's shape): discovery document, JWKS, an authorization
endpoint that signs in `user` at once, and a token endpoint that checks the code, the client and PKCE and
issues an RS256-signed id_token."""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "sokuresu-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"


class FakeOpenIdProvider:
    """Start/stop on a free port; `env` holds the variables that point Sokuresu's Google Sign-In at it."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "fake-1"})
        self.user = {"sub": "10001", "email": "someone@example.com", "email_verified": True, "name": "Someone"}
        self.codes: dict[str, dict] = {}  # code -> what the authorization request asked
        self.issued: list[dict] = []  # the claims of every id_token issued
        self.signing_key = self.key  # a test may sign with a key the JWKS does not hold
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    @property
    def env(self) -> dict[str, str]:
        return {"GOOGLE_CLIENT_ID": CLIENT_ID, "GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
                "GOOGLE_DISCOVERY_URL": f"{self.origin}/.well-known/openid-configuration"}

    def start(self) -> "FakeOpenIdProvider":
        threading.Thread(target=self.server.serve_forever, name="fake-oidc", daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def discovery(self) -> dict:
        return {"issuer": self.origin, "authorization_endpoint": f"{self.origin}/authorize",
                "token_endpoint": f"{self.origin}/token", "jwks_uri": f"{self.origin}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"]}

    def authorize(self, query: dict) -> str:
        """Sign `user` in at once; the redirect back to the app with a code."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "user": dict(self.user)}
        return f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"

    def token(self, form: dict, authorization: str) -> tuple[int, dict]:
        asked = self.codes.pop(form.get("code", ""), None)
        client = base64.b64decode(authorization.removeprefix("Basic ")).decode() if authorization else ""
        if asked is None or form.get("redirect_uri") != asked["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        if client != f"{CLIENT_ID}:{CLIENT_SECRET}" or asked.get("client_id") != CLIENT_ID:
            return 401, {"error": "invalid_client"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != asked.get("code_challenge"):
            return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        now = int(time.time())  # authlib checks exp and iat against the real time
        claims = {"iss": self.origin, "aud": CLIENT_ID, "iat": now, "exp": now + 3600, "nonce": asked.get("nonce"),
                  **asked["user"]}
        self.issued.append(claims)
        id_token = jwt.encode({"alg": "RS256", "kid": self.signing_key.kid}, claims, self.signing_key)
        return 200, {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 3600,
                     "scope": asked.get("scope", ""), "id_token": id_token}


def _handler(provider: FakeOpenIdProvider):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/.well-known/openid-configuration":
                return self._json(200, provider.discovery())
            if url.path == "/jwks":
                return self._json(200, {"keys": [provider.key.as_dict(private=False)]})
            if url.path == "/authorize":
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                self.send_response(302)
                self.send_header("Location", provider.authorize(query))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._json(404, {"error": "not_found"})

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if urlparse(self.path).path != "/token":
                return self._json(404, {"error": "not_found"})
            form = {k: v[0] for k, v in parse_qs(body).items()}
            return self._json(*provider.token(form, self.headers.get("Authorization", "")))

    return Handler
