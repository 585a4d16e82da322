"""Evidence screenshots: the page as a person sees it, rendered by headless Chromium.

Chromium never touches the network itself. Every request it makes is intercepted and answered by
the stage's own guarded fetcher (SSRF guard on every hop, byte cap), so rendering a page cannot
reach an address that fetching it could not. The page's own document is served from the bytes
already fetched and hashed. A resource the page loads that matches a csam hash bank is refused
to the browser and reported, so it can never appear in a screenshot.

Request interception sees HTTP requests only: WebRTC (STUN/TURN, mDNS), WebSockets,
WebTransport (QUIC) and preconnects open sockets of their own. Two layers close those:

1. Chromium runs in a network namespace of its own with no interface up (`unshare --net`, see
   `pipeline.content.netns`), so there is nothing to send on, loopback included. Playwright
   drives it over a pipe and needs no network either.
2. Whether or not that is possible here: a proxy that does not exist, a resolver that resolves
   nothing, WebRTC kept off UDP, QUIC off, service workers blocked, and a script run in every
   frame before the page's own that removes WebRTC, WebSocket and WebTransport constructors.

Where the namespace cannot be made (no `unshare`, no permission), pages still render behind
layer 2 alone, which on its own closes every path the sandbox's hostile pages try; the worker
logs a warning once and each rendering says so (`Rendering.unisolated`).

One browser per worker, started on first use; pages render a few at a time (CPU-bound).
Rendering problems never fail a case: the case records "no screenshot: why".
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from typing import Any

import structlog

from pipeline.config import Settings
from pipeline.content.analysis import fingerprint, media_type, sniff, visible
from pipeline.content.banks import HashBanks
from pipeline.content.netns import Isolation, isolate
from pipeline.lookups.links import LinkChecker
from schemas import Category, HashMatch

log = structlog.get_logger("hotline.screenshots")

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# No background traffic, no first-run work, and no network of its own (see the module doc).
# Checked against Debian's Chromium 156 with the sandbox's hostile pages: the resolver rule
# refuses IP literals too, which keeps a worker's WebSockets and WebTransport in (a worker
# escapes `_NO_SOCKETS`); disable_non_proxied_udp stops WebRTC's STUN/TURN over UDP, and over TCP
# it would go to the proxy, which does not exist (--force-webrtc-ip-handling-policy is not in
# this build). --disable-quic keeps HTTP/3 off but not WebTransport, and no flag removes
# RTCPeerConnection or WebTransport: `_NO_SOCKETS` does.
_CHROMIUM_ARGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--proxy-server=http://127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-quic",
)
# Run in every frame (a fresh iframe's too) before the page's scripts: the constructors that
# open sockets outside request interception are gone. Workers keep theirs: see above.
_NO_SOCKETS = """
for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection", "RTCIceTransport",
                    "WebSocket", "WebSocketStream", "WebTransport"]) {
  delete globalThis[name];
}
"""
_VIEWPORT = {"width": 1280, "height": 900}
_MAX_RESOURCES = 100  # requests one page may make through the fetcher


@dataclass(frozen=True)
class Document:
    """The page as content-check fetched it."""

    url: str
    body: bytes
    content_type: str


@dataclass
class Rendering:
    png: bytes | None = None
    text: str = ""  # visible text of the page as rendered (after its scripts ran)
    note: str | None = None  # why there is no screenshot
    blocked: list[HashMatch] = field(default_factory=list)  # csam-bank resources refused
    refused: set[str] = field(default_factory=set)  # resources at addresses the guard forbids
    requests: int = 0  # resources the page asked the fetcher for
    unisolated: str | None = None  # why Chromium had a network namespace of the host's


def find_chromium(settings: Settings) -> str | None:
    if settings.chromium_path:
        return settings.chromium_path if shutil.which(settings.chromium_path) else None
    return next(filter(None, map(shutil.which, _CHROMIUM_NAMES)), None)


class PageRenderer:
    def __init__(
        self, settings: Settings, fetcher: LinkChecker, banks: HashBanks, max_bytes: int
    ) -> None:
        self._settings = settings
        self._max_bytes = max_bytes  # of one resource the page loads
        self._fetcher = fetcher
        self._banks = banks
        self._executable = find_chromium(settings)
        self._slots = asyncio.Semaphore(max(1, settings.screenshot_concurrency))
        self._start = asyncio.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._isolation: Isolation | None = None

    def unavailable(self) -> str | None:
        """Why no page can be rendered here, or None when pages can be."""
        if not self._settings.screenshots:
            return "screenshots are turned off (HOTLINE_SCREENSHOTS=false)"
        if self._executable is None:
            return "Chromium is not installed (Debian package `chromium`)"
        return None

    async def render(self, document: Document) -> Rendering:
        reason = self.unavailable()
        if reason is not None:
            return Rendering(note=reason)
        rendering = Rendering()
        async with self._slots:
            try:
                browser, rendering.unisolated = await self._browser_started()
                await asyncio.wait_for(
                    self._shoot(browser, document, rendering), self._settings.screenshot_timeout
                )
            except TimeoutError:
                rendering.png = None
                rendering.note = f"rendering took over {self._settings.screenshot_timeout}s"
            except Exception as error:  # Chromium or its driver failed: the case goes on.
                rendering.png = None
                rendering.note = f"rendering failed: {type(error).__name__}: {error}"[:300]
        return rendering

    async def _shoot(self, browser: Any, document: Document, rendering: Rendering) -> None:
        context = await browser.new_context(viewport=_VIEWPORT, service_workers="block")
        try:
            await context.add_init_script(_NO_SOCKETS)

            async def answer(route: Any) -> None:
                await self._answer(route, document, rendering)

            await context.route("**/*", answer)
            page = await context.new_page()
            await page.goto(document.url, wait_until="load")
            rendering.text = visible(await page.inner_text("body"))
            rendering.png = await page.screenshot(type="png")
        finally:
            await context.close()

    async def _answer(self, route: Any, document: Document, rendering: Rendering) -> None:
        url = route.request.url
        if url == document.url:
            await route.fulfill(
                status=200, body=document.body, headers={"Content-Type": document.content_type}
            )
            return
        rendering.requests += 1
        if rendering.requests > _MAX_RESOURCES or not url.startswith(("http://", "https://")):
            await route.abort()
            return
        fetched = await self._fetcher.fetch(url, self._max_bytes, lambda _type: True)
        if fetched.problem is not None or fetched.status is None or fetched.truncated:
            if fetched.problem == "forbidden_address":
                rendering.refused.add(url)
            await route.abort()
            return
        declared = media_type(fetched.content_type)
        mime = sniff(fetched.body, declared)
        csam = [
            found
            for found in self._banks.match(fingerprint(fetched.body, mime), url)
            if found.category is Category.csam
        ]
        if csam:
            rendering.blocked.extend(csam)
            await route.abort()
            return
        await route.fulfill(
            status=fetched.status,
            body=fetched.body,
            headers={"Content-Type": fetched.content_type or mime},
        )

    async def _browser_started(self) -> tuple[Any, str | None]:
        """The browser, and why it has a network namespace of the host's (None: it has none)."""
        async with self._start:
            if self._browser is None or not self._browser.is_connected():
                # Imported here: a worker that never renders does not load Playwright.
                from playwright.async_api import async_playwright

                if self._isolation is None:
                    assert self._executable is not None  # render() checked unavailable()
                    self._isolation = await isolate(self._executable)
                    if self._isolation.unavailable is not None:
                        log.warning(
                            "chromium_network_not_isolated", why=self._isolation.unavailable
                        )
                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self._isolation.executable, args=list(_CHROMIUM_ARGS)
                )
            assert self._isolation is not None
            return self._browser, self._isolation.unavailable

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()
            self._browser = None
        if self._playwright is not None:
            await self._playwright.stop()
            self._playwright = None
        if self._isolation is not None:
            self._isolation.remove()
            self._isolation = None
