"""Chromium with no network at all: started in a network namespace of its own.

A new network namespace has one interface, loopback, and it is down: no address, no route, so a
socket opened inside cannot send anywhere, not even to 127.0.0.1 of the host. Nothing the page
does (WebRTC, WebSockets, QUIC, preconnects, DNS) can then leave the browser; the only way out is
request interception, answered by the guarded fetcher over Playwright's pipe (file descriptors
3 and 4, which `unshare` passes on since it execs Chromium).

Playwright launches one executable and appends its own arguments, so the namespace is made by a
small wrapper script: `exec unshare --net -- chromium "$@"`. Whether that works here is checked
once, by running the same `unshare` on a probe that must find no network.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# As root a network namespace needs nothing more; otherwise a user namespace mapping the caller
# to root grants it (where the kernel lets unprivileged users make user namespaces).
_UNSHARE_OPTIONS = (("--net",), ("--map-root-user", "--net"))
_PROBE_TIMEOUT = 10.0
# Passes only where loopback is the sole interface and even 127.0.0.1 is unreachable.
_PROBE = """
import socket
assert [name for _, name in socket.if_nameindex()] == ["lo"]
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    probe.connect(("127.0.0.1", 9))
except OSError:
    raise SystemExit(0)
raise SystemExit("127.0.0.1 is reachable")
"""


@dataclass
class Isolation:
    """What to launch as Chromium, and why it has a network if it has one."""

    executable: str  # the wrapper; Chromium itself when `unavailable`
    unavailable: str | None = None
    directory: Path | None = None  # the wrapper's, removed by `remove()`

    def remove(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


async def isolate(chromium: str) -> Isolation:
    """A launcher for `chromium` in an empty network namespace, if one can be made here."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return Isolation(chromium, "no `unshare` (util-linux) to make a network namespace")
    for options in _UNSHARE_OPTIONS:
        if await _isolates([unshare, *options, "--"]):
            return _wrapper([unshare, *options, "--", chromium])
    return Isolation(chromium, "`unshare --net` is not permitted here")


async def _isolates(prefix: list[str]) -> bool:
    process = await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-c",
        _PROBE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        return await asyncio.wait_for(process.wait(), _PROBE_TIMEOUT) == 0
    except TimeoutError:
        process.kill()
        await process.wait()
        return False


def _wrapper(command: list[str]) -> Isolation:
    directory = Path(tempfile.mkdtemp(prefix="hotline-chromium-"))
    script = directory / "chromium"
    script.write_text(f'#!/bin/sh\nexec {shlex.join(command)} "$@"\n')
    script.chmod(0o700)
    return Isolation(str(script), directory=directory)
