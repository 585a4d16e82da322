"""Rendering pages in headless Chromium through the guarded fetcher, against the sandbox."""

from __future__ import annotations

import asyncio
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
needs_chromium = pytest.mark.skipif(
    find_chromium(Settings()) is None, reason="Chromium is not installed (.ci/run installs it)"
)


def settings_for(sandbox: Sandbox, tmp_path: Path, **changes: object) -> Settings:
    return Settings(
        dns_servers="127.0.0.1",
        dns_port=sandbox.dns_port,
        fetch_allow_networks=sandbox.network,
        hash_banks=str(write_banks(tmp_path / "banks")),
        http_timeout=3.0,
        **changes,
    )


def render(settings: Settings, document: Document) -> Rendering:
    async def go() -> Rendering:
        fetcher = LinkChecker(settings, DnsResolver(settings))
        renderer = PageRenderer(settings, fetcher, HashBanks.load(settings.hash_bank_paths()))
        try:
            return await renderer.render(document)
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


@needs_chromium
def test_an_image_in_a_csam_bank_is_refused_to_the_browser(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    url = sandbox.url("sample-site.com", "/gallery")
    body = f'<html><body><p>Look</p><img src="{sandbox.url("restricted-media.nl")}"></body></html>'
    rendering = render(settings_for(sandbox, tmp_path), Document(url, body.encode(), "text/html"))
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
