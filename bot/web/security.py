"""Sign-in and CSRF for the pages: what a browser keeps, and how the server checks it.

A signed-in browser holds an HttpOnly, SameSite=Strict cookie carrying an HMAC of its key, never
the key: revoking the key in LEARNLOOP_API_KEYS signs that browser out. Every POST form carries a
token that must match the visitor's CSRF cookie (double submit, the token signed by the server)
and their session cookie, so another site can neither forge a form nor replay one without the
cookie it cannot read, and a CSRF cookie planted in the browser (by a sibling subdomain, say) with a
token fetched for it is worthless against a signed-in session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.http.deps import scope_for_key
from bot.settings import ApiScope

SESSION_COOKIE = "learnloop_session"
CSRF_COOKIE = "learnloop_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE_S = 12 * 3600  # a working day: a shared desk's browser does not stay signed in for good
CSRF_MAX_AGE_S = 12 * 3600


class WebSecurity:
    """Signs and checks the session and CSRF values for one set of API keys.

    The signing secret is random and kept in the database (bot.web.secret), so every replica checks
    the same cookies. It never comes from the keys: a CSRF token, which anyone gets from /sign-in,
    would then let the keys be guessed offline, as fast as a machine hashes. A session cookie holds
    an HMAC of its key, checked against the keys configured now, so removing a key signs its
    browsers out. The app loads the secret when it starts (`use_secret`)."""

    def __init__(self, scopes: dict[str, ApiScope], secret: bytes | None = None) -> None:
        self.scopes = scopes
        if secret is not None:
            self.use_secret(secret)

    def use_secret(self, secret: bytes) -> None:
        self._secret = secret
        self._session = URLSafeTimedSerializer(secret, salt="learnloop-sign-in")
        self._csrf = URLSafeTimedSerializer(secret, salt="learnloop-csrf")

    @property
    def open(self) -> bool:
        """No keys configured: every visitor may do everything (the API is open too)."""
        return not self.scopes

    def _fingerprint(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def sign_in(self, presented: str) -> str | None:
        """The session cookie's value for a valid key, or None for a wrong one."""
        key = presented.strip()
        if scope_for_key(self.scopes, key) is None:
            return None
        return self._session.dumps(self._fingerprint(key))

    def session_scope(self, cookie: str | None) -> ApiScope | None:
        """The scope of the key a session cookie stands for; None when absent, forged, expired or revoked."""
        if self.open:
            return "admin"
        if not cookie:
            return None
        try:
            fingerprint = self._session.loads(cookie, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        found: ApiScope | None = None
        for key, scope in self.scopes.items():
            if hmac.compare_digest(str(fingerprint), self._fingerprint(key)):
                found = scope
        return found

    @staticmethod
    def new_csrf_cookie() -> str:
        return secrets.token_urlsafe(32)

    def _session_tag(self, session: str | None) -> str:
        """What binds a CSRF token to the session cookie it was made for ('' when signed out)."""
        return hmac.new(self._secret, b"csrf\x00" + (session or "").encode(), hashlib.sha256).hexdigest()[:32]

    def csrf_token(self, cookie: str, session: str | None = None) -> str:
        """The hidden form value that goes with the visitor's CSRF cookie and session cookie."""
        return self._csrf.dumps([cookie, self._session_tag(session)])

    def csrf_valid(self, cookie: str | None, token: object, session: str | None = None) -> bool:
        if not cookie or not isinstance(token, str) or len(token) > 512:
            return False
        try:
            expected = self._csrf.loads(token, max_age=CSRF_MAX_AGE_S)
        except BadSignature:
            return False
        if not (isinstance(expected, list) and len(expected) == 2 and all(isinstance(part, str) for part in expected)):
            return False
        same_cookie = hmac.compare_digest(expected[0].encode(), cookie.encode())  # bytes: a str with 'é' in it raises
        return hmac.compare_digest(expected[1], self._session_tag(session)) and same_cookie
