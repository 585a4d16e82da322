"""Links the gateway gives out: on its public address when configured, else as it was called."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request

from pipeline.gateway.context import Gateway


def absolute(request: Request, gw: Gateway, path: str) -> str:
    base = gw.options.gateway_public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return base + path


def status_path(case_id: str, token: str, language: str | None = None) -> str:
    query = {"token": token, **({"lang": language} if language else {})}
    return f"/status/{quote(case_id, safe='')}?{urlencode(query)}"


def status_link(request: Request, gw: Gateway, case_id: str, token: str) -> str:
    """The reporter's status page, the token in it (kept out of referrers and logs)."""
    return absolute(request, gw, status_path(case_id, token))
