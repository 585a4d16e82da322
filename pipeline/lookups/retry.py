"""Trying a link again while it fails transiently (timeouts, 5xx), with doubling backoff."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from pipeline.config import Settings
from pipeline.lookups.links import LinkCheck


async def with_retries(
    attempt: Callable[[], Awaitable[LinkCheck]], settings: Settings
) -> tuple[LinkCheck, int]:
    """The last check made and the number of tries: up to `verify_attempts`, stopping at the
    first answer that is not transient."""
    tries = 0
    while True:
        tries += 1
        check = await attempt()
        if not check.transient or tries >= settings.verify_attempts:
            return check, tries
        await asyncio.sleep(settings.verify_backoff * 2 ** (tries - 1))
