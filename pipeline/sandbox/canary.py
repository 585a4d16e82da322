"""The canary: servers on 127.0.0.1, outside the sandbox network, that count whatever reaches them.

- HTTP on `port`, counting requests in `hits`. Sandbox pages redirect to it and trap names
  resolve to its address; a fetcher that honours its SSRF guard never reaches it.
- Raw UDP on `udp_port`, counting datagrams in `udp_datagrams`, and raw TCP on `tcp_port`,
  counting accepted connections in `tcp_connections`. Nothing speaks a protocol there: they catch
  traffic a browser makes outside HTTP requests (WebRTC STUN/TURN, WebTransport, WebSockets,
  preconnects), which a rendered page must never make.

A test asserts the counts did not move.
"""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from pipeline.sandbox.httpd import bind, latency_middleware
from pipeline.sandbox.zones import CANARY_ADDRESS


class Canary:
    def __init__(self) -> None:
        self.hits = 0
        self.port = 0
        self.udp_datagrams = 0
        self.udp_port = 0
        self.tcp_connections = 0
        self.tcp_port = 0
        self._listeners: list[asyncio.BaseTransport | asyncio.Server] = []

    @property
    def url(self) -> str:
        return f"http://{CANARY_ADDRESS}:{self.port}/"

    def reset(self) -> None:
        self.hits = self.udp_datagrams = self.tcp_connections = 0

    def build_app(self, latency: float) -> web.Application:
        """Answers any method on any path, counting it."""

        async def hit(request: web.Request) -> web.Response:
            self.hits += 1
            return web.Response(text="canary\n")

        app = web.Application(middlewares=[latency_middleware(latency)])
        app.router.add_route("*", "/{path:.*}", hit)
        return app

    def bind_raw(self) -> tuple[socket.socket, socket.socket]:
        """The UDP and TCP sockets on free ports (bound now, so a clash raises in the caller's
        thread); `listen` serves them."""
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind((CANARY_ADDRESS, 0))
            tcp = bind(CANARY_ADDRESS, 0)
        except OSError:
            udp.close()
            raise
        self.udp_port = udp.getsockname()[1]
        self.tcp_port = tcp.getsockname()[1]
        return udp, tcp

    async def listen(self, udp: socket.socket, tcp: socket.socket) -> None:
        """Count datagrams on `udp` and connections on `tcp` (from `bind_raw`)."""
        loop = asyncio.get_running_loop()
        datagrams, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self), sock=udp)
        self._listeners.append(datagrams)
        self._listeners.append(await loop.create_server(lambda: _Connections(self), sock=tcp))

    async def close(self) -> None:
        for listener in self._listeners:
            listener.close()
            if isinstance(listener, asyncio.Server):
                await listener.wait_closed()
        self._listeners = []


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, canary: Canary) -> None:
        self._canary = canary

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self._canary.udp_datagrams += 1


class _Connections(asyncio.Protocol):
    def __init__(self, canary: Canary) -> None:
        self._canary = canary

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._canary.tcp_connections += 1
        transport.close()  # counted; a client waiting for an answer gets none
