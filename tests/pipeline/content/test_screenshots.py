"""Rendering pages in headless Chromium through the guarded fetcher, against the sandbox."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.content.banks import HashBanks
from pipeline.content.screenshots import Document, PageRenderer, Rendering, find_chromium
from pipeline.lookups.dns import DnsResolver
from pipeline.lookups.links import LinkChecker
from pipeline.sandbox import Sandbox
from pipeline.sandbox.banks import write_banks
from pipeline.sandbox.content import GARDEN_EN
from pipeline.sandbox.web import render_script_only

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 5 * 1024 * 1024  # of one resource, as content-check's default
needs_chromium = pytest.mark.skipif(
    find_chromium(Settings()) is None, reason="Chromium is not installed (.ci/run installs it)"
)


def settings_for(sandbox: Sandbox, tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        dns_servers="127.0.0.1",
        dns_port=sandbox.dns_port,
        fetch_allow_networks=sandbox.network,
        http_timeout=3.0,
        **changes,
    )


def render(
    settings: Settings,
    document: Document,
    banks: Path | None = None,
    served_from: str | None = None,
) -> Rendering:
    """Render `document` matching resources against the `banks` directory; with `served_from`,
    the document's body is fetched from that URL first."""
    [rendering] = render_all(settings, [(document, served_from)], banks)
    return rendering


def render_all(
    settings: Settings, pages: list[tuple[Document, str | None]], banks: Path | None = None
) -> list[Rendering]:
    """`render` of several pages at once, by one browser."""

    async def go() -> list[Rendering]:
        fetcher = LinkChecker(settings, DnsResolver(settings))
        banks_loaded = HashBanks.load([] if banks is None else [banks])
        renderer = PageRenderer(settings, fetcher, banks_loaded, MAX_BYTES)

        async def one(document: Document, served_from: str | None) -> Rendering:
            page = document
            if served_from is not None:
                fetched = await fetcher.fetch(served_from, MAX_BYTES, bool)
                assert fetched.status == 200, fetched
                page = replace(document, body=fetched.body)
            return await renderer.render(page)

        try:
            return list(await asyncio.gather(*(one(d, url) for d, url in pages)))
        finally:
            await renderer.close()
            await fetcher.close()

    return asyncio.run(go())


@needs_chromium
def test_a_page_built_by_script_renders_with_its_text(sandbox: Sandbox, tmp_path: Path) -> None:
    url = sandbox.url("sample-site.com", "/js")
    page = render_script_only(GARDEN_EN).encode()
    rendering = render(settings_for(sandbox, tmp_path), Document(url, page, "text/html"))
    assert rendering.note is None
    assert rendering.png is not None and rendering.png.startswith(PNG_MAGIC)
    assert GARDEN_EN.heading in rendering.text


@needs_chromium
def test_the_browser_reaches_nothing_the_fetcher_refuses(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    canary = sandbox.canary.port
    forbidden = [
        f"http://127.0.0.1:{canary}/a.png",
        f"http://[::ffff:127.0.0.1]:{canary}/b.png",
        f"http://2130706433:{canary}/c.png",
        sandbox.url("localhost-trap.kz", "/d.png"),
        sandbox.url("sample-site.com", "/redirect/private"),
    ]
    images = "".join(f'<img src="{url}">' for url in forbidden)
    frames = f'<iframe src="{forbidden[0]}"></iframe>'
    fetches = "".join(f'fetch("{url}").catch(() => 0);' for url in forbidden)
    body = f"<html><body><p>Words</p>{images}{frames}<script>{fetches}</script></body></html>"
    url = sandbox.url("sample-site.com", "/page-with-traps")
    rendering = render(settings_for(sandbox, tmp_path), Document(url, body.encode(), "text/html"))
    assert rendering.png is not None and "Words" in rendering.text
    # Every one was asked of the fetcher, which refused it (Chromium spells some differently).
    assert len(rendering.refused) == len(forbidden)
    assert sandbox.canary.hits == 0


def test_the_canary_counts_udp_datagrams_and_tcp_connections(sandbox: Sandbox) -> None:
    # What makes the zero counts below mean something.
    sandbox.reset()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"ping", ("127.0.0.1", sandbox.canary.udp_port))
    socket.create_connection(("127.0.0.1", sandbox.canary.tcp_port)).close()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not (
        sandbox.canary.udp_datagrams and sandbox.canary.tcp_connections
    ):
        time.sleep(0.01)
    assert (sandbox.canary.udp_datagrams, sandbox.canary.tcp_connections) == (1, 1)
    sandbox.reset()
    assert (sandbox.canary.udp_datagrams, sandbox.canary.tcp_connections) == (0, 0)


@needs_chromium
def test_a_page_reaches_nothing_around_the_fetcher(sandbox: Sandbox, tmp_path: Path) -> None:
    # WebRTC (STUN/TURN), WebSockets, WebTransport and preconnects open sockets of their own,
    # which request interception never sees: each is aimed at the canary while an image whose
    # name DNS never answers keeps the page open (3 s), time enough for ICE to gather. Served
    # as https the page is a secure context, where WebTransport exists. The three pages render
    # at once, in one browser.
    pages = []
    for path, scheme in (
        ("/hostile/webrtc", "https"),
        ("/hostile/sockets", "http"),
        ("/hostile/sockets", "https"),
    ):
        served = sandbox.url("sample-site.com", path)
        pages.append((Document(f"{scheme}:{served.partition(':')[2]}", b"", "text/html"), served))
    sandbox.reset()
    started = time.monotonic()
    renderings = render_all(settings_for(sandbox, tmp_path, screenshot_concurrency=3), pages)
    assert all(r.png is not None for r in renderings), [r.note for r in renderings]
    assert time.monotonic() - started >= 2
    counts = {
        "udp": sandbox.canary.udp_datagrams,
        "tcp": sandbox.canary.tcp_connections,
        "http": sandbox.canary.hits,
    }
    assert counts == {"udp": 0, "tcp": 0, "http": 0}, [r.text for r in renderings]


@needs_chromium
def test_an_image_in_a_csam_bank_is_refused_to_the_browser(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url = sandbox.url("sample-site.com", "/gallery")
    body = f'<html><body><p>Look</p><img src="{sandbox.url("restricted-media.nl")}"></body></html>'
    document = Document(url, body.encode(), "text/html")
    rendering = render(settings_for(sandbox, tmp_path), document, write_banks(tmp_path / "banks"))
    assert {(m.bank, m.signal) for m in rendering.blocked} == {
        ("sandbox-csam", "sha256"),
        ("sandbox-csam", "md5"),
    }


def test_without_chromium_the_rendering_says_why(sandbox: Sandbox, tmp_path: Path) -> None:
    document = Document(sandbox.url("sample-site.com", "/"), b"<p>x</p>", "text/html")
    missing = settings_for(sandbox, tmp_path, chromium_path="/nonexistent/chromium")
    turned_off = settings_for(sandbox, tmp_path, screenshots=False)
    assert render(missing, document).note == "Chromium is not installed (Debian package `chromium`)"
    assert render(turned_off, document).note == (
        "screenshots are turned off (HOTLINE_SCREENSHOTS=false)"
    )
