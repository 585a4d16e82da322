"""Where notices land in the sandbox: an SMTP server (aiosmtpd, in its own thread) that keeps
every message, and a webhook receiver (aiohttp) that keeps every POST.

The webhook answers 200 on any path except `FAIL_PATH`, which answers 500, and paths under
`FLAKY_PATH`, which answer 503 to the first two calls of each `Idempotency-Key`; every call is
recorded. The SMTP sink refuses with 451 the first two tries of each Message-ID sent to a
`flaky2-…` mailbox, and every try to a `broken-…` one (451) or a `nobody-…` one (550, for
good), and waits `latency`
seconds before accepting a message, as a remote mail server would take.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from multidict import CIMultiDict

from pipeline.sandbox.httpd import free_port, latency_middleware

FAIL_PATH = "/fail"
FLAKY_PATH = "/flaky2"
FLAKY_MAILBOX = "flaky2-"
BROKEN_MAILBOX = "broken-"
NO_SUCH_MAILBOX = "nobody-"
_FAILURES_BEFORE_SUCCESS = 2
_SMTP_ADDRESS = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes  # the message exactly as sent after DATA


@dataclass(frozen=True)
class WebhookCall:
    path: str
    headers: CIMultiDict[str]
    body: bytes


def _message_id(data: bytes) -> str:
    for line in data.split(b"\r\n\r\n", 1)[0].splitlines():
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return ""


class _MailboxHandler:
    """aiosmtpd handler: accept every message into `mailbox` (but the flaky and broken ones)."""

    def __init__(self, mailbox: list[ReceivedMail], latency: float) -> None:
        self._mailbox = mailbox
        self._latency = latency
        self._tries: Counter[str] = Counter()
        self.refused = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        if any(r.startswith(NO_SUCH_MAILBOX) for r in envelope.rcpt_tos):
            self.refused += 1
            return "550 5.1.1 No such mailbox"
        if any(r.startswith(BROKEN_MAILBOX) for r in envelope.rcpt_tos):
            self.refused += 1
            return "451 4.3.0 Mailbox temporarily unavailable"
        if any(r.startswith(FLAKY_MAILBOX) for r in envelope.rcpt_tos):
            message_id = _message_id(data)
            self._tries[message_id] += 1
            if self._tries[message_id] <= _FAILURES_BEFORE_SUCCESS:
                self.refused += 1
                return "451 4.3.0 Try again later"
        if self._latency:
            await asyncio.sleep(self._latency)
        self._mailbox.append(
            ReceivedMail(
                envelope.mail_from or "",
                tuple(envelope.rcpt_tos),
                envelope.original_content or b"",
            )
        )
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server on 127.0.0.1; `mailbox` lists what it received."""

    def __init__(self, latency: float = 0.0) -> None:
        self.mailbox: list[ReceivedMail] = []
        self.port = 0
        self._handler = _MailboxHandler(self.mailbox, latency)
        self._controller: Controller | None = None

    @property
    def refused(self) -> int:
        return self._handler.refused

    def start(self) -> None:
        # aiosmtpd's readiness check connects to the port it was given, so port 0 will not do.
        self.port = free_port(_SMTP_ADDRESS)
        self._controller = Controller(self._handler, hostname=_SMTP_ADDRESS, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def build_webhook_app(calls: list[WebhookCall], latency: float) -> web.Application:
    """Records every POST into `calls`."""

    tries: Counter[str] = Counter()

    async def receive(request: web.Request) -> web.Response:
        calls.append(WebhookCall(request.path, CIMultiDict(request.headers), await request.read()))
        if request.path == FAIL_PATH:
            return web.json_response({"ok": False}, status=500)
        if request.path.startswith(FLAKY_PATH):
            key = request.headers.get("Idempotency-Key", "")
            tries[key] += 1
            if tries[key] <= _FAILURES_BEFORE_SUCCESS:
                return web.json_response({"ok": False}, status=503)
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[latency_middleware(latency)])
    app.router.add_post("/{path:.*}", receive)
    return app
