"""The sandbox internet: loopback DNS, web sites, RDAP, SMTP and webhook sinks and a canary, for
tests, the offline demo and the benchmark. Nothing here reaches a real network.

    with Sandbox() as sandbox:
        sandbox.url("best-casino.kz")  # http://best-casino.kz/ (port 80) or :<port>

Modules: `zones` (the fixture data everything derives from), `content` (page texts), `media`
(PNG/PDF bytes), `dns`, `web`, `rdap`, `sinks`, `canary`, `httpd` and `loop` (plumbing),
`server` (the `Sandbox` class).
"""

from pipeline.sandbox.server import Sandbox
from pipeline.sandbox.sinks import ReceivedMail, WebhookCall

__all__ = ["ReceivedMail", "Sandbox", "WebhookCall"]
