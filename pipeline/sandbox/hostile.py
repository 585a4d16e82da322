"""Hostile pages: scripts that try to reach the canary around the request pipeline.

A browser rendering a page for its screenshot answers every HTTP request through the guarded
fetcher, but WebRTC (STUN/TURN), WebSockets, WebTransport (QUIC) and preconnects open sockets
of their own. These pages aim each of them at the canary's raw UDP and TCP ports (and its HTTP
port) on 127.0.0.1; a renderer that lets any through moves a canary count.

Each page waits on a slow image, so the browser keeps it open while ICE gathers candidates, and
writes what each attempt did into the page (text a test can show when a count moves).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Literal

HostileKind = Literal["webrtc", "sockets"]

_LOOPBACK = "127.0.0.1"
# Writes one line per attempt into the page: "name: started" or "name: failed (why)".
_REPORT = """
window.hostile = [];
function attempt(name, run) {
  let outcome = "started";
  try { window.hostile.push(run()); } catch (error) { outcome = "failed (" + error + ")"; }
  const line = document.createElement("p");
  line.textContent = name + ": " + outcome;
  document.body.append(line);
}
"""


@dataclass(frozen=True)
class CanaryPorts:
    http: int
    udp: int
    tcp: int


def _webrtc(ports: CanaryPorts) -> str:
    udp, tcp = f"{_LOOPBACK}:{ports.udp}", f"{_LOOPBACK}:{ports.tcp}"
    # A data channel gives the offer something to negotiate, so candidates are gathered; the
    # pool starts gathering as soon as the connection exists.
    return f"""
const servers = [
  {{urls: "stun:{udp}"}},
  {{urls: "turn:{udp}?transport=udp", username: "u", credential: "p"}},
  {{urls: "turn:{tcp}?transport=tcp", username: "u", credential: "p"}},
];
// A fresh frame's window has its own constructors (an initial about:blank document).
const frame = document.createElement("iframe");
document.head.append(frame);
const peers = [
  ["RTCPeerConnection", window.RTCPeerConnection],
  ["webkitRTCPeerConnection", window.webkitRTCPeerConnection],
  ["frame RTCPeerConnection", frame.contentWindow.RTCPeerConnection],
];
for (const [name, Peer] of peers) {{
  attempt(name, () => {{
    const peer = new Peer({{iceServers: servers, iceCandidatePoolSize: 2}});
    peer.createDataChannel("x");
    peer.createOffer().then((offer) => peer.setLocalDescription(offer));
    return peer;
  }});
}}
"""


def _sockets(ports: CanaryPorts) -> str:
    return f"""
attempt("WebSocket raw", () => new WebSocket("ws://{_LOOPBACK}:{ports.tcp}/"));
attempt("WebSocket http", () => new WebSocket("ws://{_LOOPBACK}:{ports.http}/"));
attempt("WebSocket tls", () => new WebSocket("wss://{_LOOPBACK}:{ports.tcp}/"));
attempt("WebTransport", () => new WebTransport("https://{_LOOPBACK}:{ports.udp}/"));
// A worker has sockets of its own, out of reach of anything a page's frames are given.
attempt("worker", () => new Worker(URL.createObjectURL(new Blob([`
  new WebSocket("ws://{_LOOPBACK}:{ports.tcp}/");
  if (self.WebTransport) new WebTransport("https://{_LOOPBACK}:{ports.udp}/");
`]))));
attempt("fetch", () => fetch("http://{_LOOPBACK}:{ports.tcp}/").catch(() => 0));
attempt("img", () => {{
  const image = new Image();
  image.src = "http://{_LOOPBACK}:{ports.tcp}/x.png";
  return image;
}});
"""


def _links(ports: CanaryPorts) -> str:
    targets = [f"//{_LOOPBACK}:{ports.tcp}", f"http://{_LOOPBACK}:{ports.tcp}"]
    targets.append(f"https://{_LOOPBACK}:{ports.udp}")
    return "".join(
        f'<link rel="{rel}" href="{escape(target)}">\n'
        for rel in ("dns-prefetch", "preconnect")
        for target in targets
    )


def render_hostile(kind: HostileKind, ports: CanaryPorts, wait_url: str) -> str:
    """The page of `kind`; `wait_url` is a slow image that keeps the page loading meanwhile."""
    script = _webrtc(ports) if kind == "webrtc" else _sockets(ports)
    head = "" if kind == "webrtc" else _links(ports)
    return (
        f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Hostile: {kind}</title>\n{head}</head>\n<body>\n<h1>Hostile: {kind}</h1>\n"
        f"<script>{_REPORT}{script}</script>\n"
        f'<img src="{escape(wait_url)}" alt="">\n</body>\n</html>\n'
    )
