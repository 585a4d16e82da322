"""Sending a notice: e-mail through the configured relay (aiosmtplib, connections kept for
reuse), or a webhook POST signed with HMAC. A failure raises `SendFailed` with the answer."""

from __future__ import annotations

import asyncio
import base64
import time
from email.utils import format_datetime

import aiohttp
import aiosmtplib

from pipeline.delivery.options import DeliveryOptions
from pipeline.delivery.signing import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature
from schemas.dispatch import Notice


class SendFailed(Exception):
    """The recipient's server did not take the notice (the message says what it answered).
    `permanent`: it said no for good (an SMTP 5xx, an HTTP 4xx): trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


_WORD_BYTES = 39  # UTF-8 bytes per encoded word: a folded line of at most 78 characters


def _header(value: str) -> str:
    """A header value: one line, RFC 2047-encoded words (folded) when it is not ASCII."""
    value = " ".join(value.split())  # no CR or LF can start a header of its own
    if value.isascii():
        return value
    words, chunk = [], b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:  # never split a character's bytes
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def email_bytes(notice: Notice, sender: str) -> bytes:
    """The message as sent, built directly: the `email` package's header machinery took half
    of the worker's time for messages that need none of it."""
    key = notice.idempotency_key
    # Text in its canonical form (CRLF line ends, RFC 2046), then base64 in 76-character lines.
    text = "\r\n".join(notice.body.splitlines()).encode("utf-8")
    body = base64.encodebytes(text).decode("ascii").replace("\n", "\r\n")
    headers = [
        f"From: {_header(sender)}",
        f"To: {_header(notice.recipient.address)}",
        f"Subject: {_header(notice.subject)}",
        f"Date: {format_datetime(notice.issued_at)}",
        # The idempotency key travels as the Message-ID: a resend after a crash is a duplicate
        # the recipient's mail system can drop.
        f"Message-ID: <{key}@hotline.notices>",
        f"{KEY_HEADER}: {key}",
        f"X-Hotline-Case: {_header(notice.case_id)}",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
        "Content-Transfer-Encoding: base64",
        f"Content-Language: {notice.language}",
    ]
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")


class SmtpSender:
    """At most `size` connections to the relay, each reused for the next message."""

    def __init__(self, options: DeliveryOptions, size: int) -> None:
        self._options = options
        self._slots = asyncio.Semaphore(size)
        self._idle: list[aiosmtplib.SMTP] = []

    async def _connect(self) -> aiosmtplib.SMTP:
        options = self._options
        client = aiosmtplib.SMTP(
            hostname=options.smtp_host,
            port=options.smtp_port,
            timeout=options.smtp_timeout,
            start_tls=options.smtp_starttls,
        )
        await client.connect()
        if options.smtp_username:
            await client.login(options.smtp_username, options.smtp_password.get_secret_value())
        return client

    async def send(self, notice: Notice) -> str:
        message = email_bytes(notice, self._options.smtp_from)
        sender = self._options.smtp_from
        async with self._slots:
            client = self._idle.pop() if self._idle else None
            try:
                if client is None or not client.is_connected:
                    client = await self._connect()
                _, answer = await client.sendmail(sender, [notice.recipient.address], message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                if client is not None:
                    client.close()  # a connection that failed mid-message is not reused
                code = getattr(error, "code", 0)
                raise SendFailed(f"smtp: {error}", permanent=500 <= code < 600) from error
            self._idle.append(client)
            return answer

    async def close(self) -> None:
        for client in self._idle:
            client.close()
        self._idle = []


class WebhookSender:
    def __init__(self, options: DeliveryOptions) -> None:
        self._secret = options.webhook_secret.get_secret_value().encode()
        self._timeout = aiohttp.ClientTimeout(total=options.webhook_timeout)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, notice: Notice) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        body = notice.model_dump_json().encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            KEY_HEADER: notice.idempotency_key,
        }
        try:
            async with self._session.post(
                notice.recipient.address, data=body, headers=headers, allow_redirects=False
            ) as response:
                if not 200 <= response.status < 300:
                    # 4xx but a timeout or a rate limit: the request itself is refused.
                    refused = 400 <= response.status < 500 and response.status not in (408, 429)
                    raise SendFailed(f"webhook: HTTP {response.status}", permanent=refused)
                return f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            raise SendFailed(f"webhook: {type(error).__name__}: {error}") from error

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
