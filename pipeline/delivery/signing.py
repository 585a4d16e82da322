"""Webhook signatures: HMAC-SHA256 over the timestamp and the body, as Stripe and GitHub sign.

A recipient checks `X-Hotline-Signature` against its shared secret and refuses a timestamp
older than a few minutes (a replayed request); README.md has the snippet to copy.
"""

from __future__ import annotations

import hashlib
import hmac

TIMESTAMP_HEADER = "X-Hotline-Timestamp"
SIGNATURE_HEADER = "X-Hotline-Signature"
KEY_HEADER = "Idempotency-Key"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"
