"""Form tokens against cross-site posts: each page's form carries a nonce and its HMAC.

A post is taken only with a token this gateway issued for the same form within `max_age`
seconds: another site can make a browser post to us, but cannot read a page of ours to learn a
token. Nothing is stored (the HMAC is checked with the token secret), so any gateway process
accepts another's tokens. The staff's login cookie is SameSite=Strict besides.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FormToken:
    nonce: str
    token: str


class FormTokens:
    def __init__(
        self, secret: str, *, max_age: float = 4 * 3600, clock: Callable[[], float] = time.time
    ) -> None:
        # A key of its own, derived from the token secret, so a form token can never be a
        # reporter's status token (an HMAC of a case id with the secret itself).
        self._key = hmac.new(secret.encode(), b"hotline form tokens", hashlib.sha256).digest()
        self.max_age = max_age
        self._clock = clock

    def _mac(self, form: str, nonce: str) -> str:
        return hmac.new(self._key, f"{form}|{nonce}".encode(), hashlib.sha256).hexdigest()

    def issue(self, form: str) -> FormToken:
        """A token for one rendering of `form` (e.g. `report`, `decide:HL-…`)."""
        nonce = f"{int(self._clock())}.{secrets.token_hex(16)}"
        return FormToken(nonce, self._mac(form, nonce))

    def valid(self, form: str, nonce: str | None, token: str | None) -> bool:
        if not nonce or not token or len(nonce) > 100 or len(token) > 100:
            return False
        issued, _, _ = nonce.partition(".")
        if not issued.isdigit() or not 0 <= self._clock() - int(issued) <= self.max_age:
            return False
        return hmac.compare_digest(self._mac(form, nonce).encode(), token.encode())
