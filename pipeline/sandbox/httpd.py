"""HTTP plumbing shared by the sandbox's aiohttp servers: loopback sockets, one port shared by many
addresses, the latency middleware, and serving an app on a bound socket.

Sockets are bound by the caller's thread before the event loop serves them, so a port clash
raises in `Sandbox.start()` and no other process can take a port between choosing and serving it.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

_PREFERRED_PORT = 80
_FREE_PORT_ATTEMPTS = 20
# Stopping waits this long for open requests (the 30 s slow page) before cancelling them.
_SHUTDOWN_TIMEOUT = 0.2


def bind(address: str, port: int) -> socket.socket:
    """A TCP socket bound (not yet listening) to address:port; port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Lets a restarted sandbox take its port back while old connections sit in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def free_port(address: str) -> int:
    """A port free on `address` right now, for servers that must be given a number (aiosmtpd)."""
    with bind(address, 0) as sock:
        port: int = sock.getsockname()[1]
    return port


def _bind_all(addresses: Sequence[str], port: int) -> list[socket.socket]:
    bound: list[socket.socket] = []
    try:
        for address in addresses:
            bound.append(bind(address, port))
    except OSError:
        for sock in bound:
            sock.close()
        raise
    return bound


def bind_shared(addresses: Sequence[str], port: int | None) -> list[socket.socket]:
    """One socket per address, all on one port: `port` if given; else 80 if every address can
    have it; else a free port found on the first address and taken on all the others."""
    if port is not None:
        return _bind_all(addresses, port)
    try:
        return _bind_all(addresses, _PREFERRED_PORT)
    except OSError:
        pass  # not root, or another sandbox holds 80: fall back to a free port
    for _ in range(_FREE_PORT_ATTEMPTS):
        first = bind(addresses[0], 0)
        try:
            return [first, *_bind_all(addresses[1:], first.getsockname()[1])]
        except OSError:
            first.close()
    raise OSError(f"no port is free on all of {', '.join(addresses)}")


def latency_middleware(seconds: float) -> Middleware:
    """Delays every response by `seconds` (the benchmark's stand-in for a distant server)."""

    @web.middleware
    async def delay(request: web.Request, handler: Handler) -> web.StreamResponse:
        if seconds > 0:
            await asyncio.sleep(seconds)
        return await handler(request)

    return delay


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    """Serve `app` on the bound `sock`; stop it with `runner.cleanup()`."""
    # handler_cancellation: a client that gives up (timeout, byte cap) ends its slow or endless
    # handler instead of leaving it running until shutdown.
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_TIMEOUT
    )
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner
