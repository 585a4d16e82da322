"""The sandbox web sites (aiohttp): one application per host, serving the pages `zones` lists.

Articles render as HTML with a title, headings, paragraphs and a <style> and <script> block whose
content is not visible text (`STYLE_MARKER` and `SCRIPT_MARKER` must never show up in extracted
text); the other page behaviours (statuses, redirects, slow, endless, files, hostile scripts) are
described in `zones`. Only the listed paths exist; any other answers 404. GET routes answer HEAD
as well.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from html import escape
from http import HTTPStatus
from typing import assert_never

from aiohttp import web
from aiohttp.typedefs import Handler

from pipeline.sandbox import media
from pipeline.sandbox.canary import Canary
from pipeline.sandbox.content import Article
from pipeline.sandbox.hostile import CanaryPorts, render_hostile
from pipeline.sandbox.httpd import latency_middleware
from pipeline.sandbox.zones import (
    Download,
    Empty,
    Endless,
    Flaky,
    Gallery,
    Host,
    Hostile,
    Once,
    Page,
    Pdf,
    Png,
    Redirect,
    ScriptOnly,
    Slow,
    Status,
)

SCRIPT_MARKER = "sandbox-script-marker"
STYLE_MARKER = "sandbox-style-marker"
FOOTER = "Sandbox fixture: fictional content, no real persons or organisations."

_STYLE = f"body {{ font-family: sans-serif; }} .{STYLE_MARKER} {{ color: #222; }}"
_SCRIPT = f'var sandboxMarker = "{SCRIPT_MARKER}";'
_ENDLESS_CHUNK = b"<p>" + b"and on " * 1000 + b"</p>\n"

UrlFor = Callable[[str, str], str]  # (host, path) -> absolute URL in this sandbox


class Visits:
    """Requests per (host, path) since the last reset: what Flaky and Once pages decide on."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def count(self, host: str, path: str) -> int:
        """Record one more request and return how many there have been, this one included."""
        self._counts[host, path] += 1
        return self._counts[host, path]

    def reset(self) -> None:
        self._counts.clear()


def _body(article: Article) -> str:
    paragraphs = "".join(f"<p>{escape(text)}</p>" for text in article.paragraphs)
    return f"<h1>{escape(article.heading)}</h1>{paragraphs}<footer>{escape(FOOTER)}</footer>"


def _document(lang: str, title: str, head: str, body: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def render_article(article: Article, image_url: str | None = None) -> str:
    head = f"<style>{_STYLE}</style>\n<script>{_SCRIPT}</script>\n"
    image = "" if image_url is None else f'<img src="{escape(image_url)}" alt="">'
    return _document(article.lang, article.title, head, _body(article) + image)


def render_script_only(article: Article) -> str:
    # "</" escaped so the fragment cannot close the script element early.
    fragment = json.dumps(_body(article), ensure_ascii=False).replace("</", "<\\/")
    body = (
        '<div id="app"></div>\n'
        f'<script>document.getElementById("app").innerHTML = {fragment};</script>'
    )
    return _document(article.lang, article.title, "", body)


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _status(code: int) -> web.Response:
    return web.Response(status=code, text=f"{code} {HTTPStatus(code).phrase}\n")


async def _endless(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/html; charset=utf-8"})
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    while True:  # ends when the client disconnects and the handler is cancelled
        await response.write(_ENDLESS_CHUNK)
        # A fast reader never makes write() wait; yield so the other sites stay served.
        await asyncio.sleep(0)


async def _respond(
    page: Page, request: web.Request, visit: int, url_for: UrlFor, canary: Canary
) -> web.StreamResponse:
    match page:
        case Article():
            return _html(render_article(page))
        case ScriptOnly(article):
            return _html(render_script_only(article))
        case Status(code):
            return _status(code)
        case Flaky(inner):
            if visit == 1:
                return _status(503)
            return await _respond(inner, request, visit, url_for, canary)
        case Once(inner):
            if visit > 1:
                return _status(404)
            return await _respond(inner, request, visit, url_for, canary)
        case Slow(seconds, inner):
            await asyncio.sleep(seconds)
            return await _respond(inner, request, visit, url_for, canary)
        case Redirect(path, host):
            location = path if host is None else url_for(host, path)
            return web.Response(status=302, headers={"Location": location})
        case Endless():
            return await _endless(request)
        case Png(pattern):
            return web.Response(body=media.png(pattern), content_type="image/png")
        case Pdf(text):
            return web.Response(body=media.pdf(text), content_type="application/pdf")
        case Empty():
            return web.Response(content_type="text/html", charset="utf-8")
        case Download():
            return web.Response(body=media.executable(), content_type="application/octet-stream")
        case Gallery(article, image_host, image_path):
            return _html(render_article(article, url_for(image_host, image_path)))
        case Hostile(kind, wait_url):
            ports = CanaryPorts(canary.port, canary.udp_port, canary.tcp_port)
            return _html(render_hostile(kind, ports, wait_url))
        case _:
            assert_never(page)


def _handler(
    host: str, path: str, page: Page, visits: Visits, url_for: UrlFor, canary: Canary
) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        return await _respond(page, request, visits.count(host, path), url_for, canary)

    return handle


def build_app(
    host: Host, visits: Visits, url_for: UrlFor, latency: float, canary: Canary
) -> web.Application:
    """The site of `host`: a GET (and HEAD) route per page (hostile pages aim at `canary`)."""
    app = web.Application(middlewares=[latency_middleware(latency)])
    for path, page in host.pages.items():
        app.router.add_get(path, _handler(host.name, path, page, visits, url_for, canary))
    return app
