"""The dashboard's session: a signed cookie that expires, and the CSRF token it carries.

The signing key is derived from ADMIN_TOKEN, so changing the token ends every session. The
cookie holds no secret, only a random session id and CSRF token; logging out revokes the id
(in Redis, until the cookie would have expired anyway), so a copied cookie dies with it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "voicehook_admin"
MAX_COOKIE_CHARS = 512
SALT = "voicehook.admin.session"


@dataclass(frozen=True, slots=True)
class AdminSession:
    sid: str
    csrf: str

    def csrf_matches(self, given: str | None) -> bool:
        """Constant-time comparison with the token a form sent back."""
        if not given:
            return False
        return hmac.compare_digest(given.encode(), self.csrf.encode())


class SessionSigner:
    """Issues and verifies the session cookie's value."""

    def __init__(self, admin_token: str, lifetime_seconds: int) -> None:
        key = hmac.new(admin_token.encode(), b"voicehook admin session", hashlib.sha256).digest()
        self._serializer = URLSafeTimedSerializer(key, salt=SALT)
        self.lifetime_seconds = lifetime_seconds

    def issue(self) -> tuple[str, AdminSession]:
        """A fresh session and the cookie value that carries it."""
        session = AdminSession(sid=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))
        return self._serializer.dumps([session.sid, session.csrf]), session

    def read(self, cookie: str | None) -> AdminSession | None:
        """The session a cookie carries, or None when it is absent, forged or expired."""
        if not cookie or len(cookie) > MAX_COOKIE_CHARS:
            return None
        try:
            value = self._serializer.loads(cookie, max_age=self.lifetime_seconds)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not (isinstance(value, list) and len(value) == 2):
            return None
        if not all(isinstance(part, str) for part in value):
            return None
        return AdminSession(sid=value[0], csrf=value[1])


def token_matches(given: str, admin_token: str) -> bool:
    """Constant-time comparison of a typed token with ADMIN_TOKEN."""
    return hmac.compare_digest(given.encode(), admin_token.encode())
