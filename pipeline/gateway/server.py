"""`hotline gateway`: the gateway under uvicorn, logging through structlog like every worker."""

from __future__ import annotations

import signal
import socket
import threading

import structlog
import uvicorn

from pipeline.config import Settings
from pipeline.gateway.app import create_app
from pipeline.gateway.options import GatewayOptions
from pipeline.ledger.store import Ledger
from pipeline.runtime.logs import configure_logging

log = structlog.get_logger("hotline.gateway")


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound before uvicorn starts, so port 0 (a free one) can be told before it serves."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


def _return_on_sigterm() -> None:
    """uvicorn stops gracefully on SIGTERM or SIGINT (Ctrl-C in a terminal running
    `hotline gateway`) and then raises it again for the handler it found: with these `serve`
    returns (and closes the ledger) rather than the process dying."""
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, lambda number, frame: None)


def serve(
    settings: Settings,
    bootstrap: str,
    options: GatewayOptions | None = None,
    *,
    ledger: Ledger | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM. `ledger`: one the caller composed (with the reporters'
    sentences for closing reasons); else the settings' ledger, closed at the end."""
    options = options or GatewayOptions()
    configure_logging(settings.log_level, settings.log_format)
    opened = ledger is None
    ledger = ledger or Ledger.from_settings(settings)
    try:
        app = create_app(settings, ledger, bootstrap, options)
        sock = listening_socket(options.gateway_host, options.gateway_port)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        config = uvicorn.Config(
            app,
            log_config=None,  # uvicorn's loggers go through ours (pipeline/runtime/logs.py)
            # Off: request lines carry reporters' status tokens in their query strings.
            access_log=False,
            proxy_headers=True,  # the client's address from a proxy uvicorn trusts
            server_header=False,
        )
        log.info(
            "gateway listening", url=f"http://{shown}:{port}", docs=f"http://{shown}:{port}/docs"
        )
        _return_on_sigterm()
        uvicorn.Server(config).run(sockets=[sock])
        log.info("gateway stopped")
    finally:
        if opened:
            ledger.close()
