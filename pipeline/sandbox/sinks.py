"""Where notices land in the sandbox: an SMTP server (aiosmtpd, in its own thread) that keeps
every message, and a webhook receiver (aiohttp) that keeps every POST.

The webhook answers 200 on any path except `FAIL_PATH`, which answers 500 (for retry tests); both
are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from multidict import CIMultiDict

from pipeline.sandbox.httpd import free_port, latency_middleware

FAIL_PATH = "/fail"
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


class _MailboxHandler:
    """aiosmtpd handler: accept every message into `mailbox`."""

    def __init__(self, mailbox: list[ReceivedMail]) -> None:
        self._mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
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

    def __init__(self) -> None:
        self.mailbox: list[ReceivedMail] = []
        self.port = 0
        self._controller: Controller | None = None

    def start(self) -> None:
        # aiosmtpd's readiness check connects to the port it was given, so port 0 will not do.
        self.port = free_port(_SMTP_ADDRESS)
        self._controller = Controller(
            _MailboxHandler(self.mailbox), hostname=_SMTP_ADDRESS, port=self.port
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


def build_webhook_app(calls: list[WebhookCall], latency: float) -> web.Application:
    """Records every POST into `calls`."""

    async def receive(request: web.Request) -> web.Response:
        calls.append(WebhookCall(request.path, CIMultiDict(request.headers), await request.read()))
        if request.path == FAIL_PATH:
            return web.json_response({"ok": False}, status=500)
        return web.json_response({"ok": True})

    app = web.Application(middlewares=[latency_middleware(latency)])
    app.router.add_post("/{path:.*}", receive)
    return app
