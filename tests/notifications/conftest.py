"""Fixtures for the notifications tests: a webhook receiver on 127.0.0.1 and people to tell."""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.notifications.factories import RecipientFactory


@dataclass
class Posted:
    path: str
    raw_query: str
    query: dict
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body.decode())


class Receiver:
    """A small HTTP server in a thread that records every POST and answers as told."""

    def __init__(self):
        self.posts = []
        self.status = 200
        self.answer = {"errcode": 0, "errmsg": "ok"}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                receiver.posts.append(
                    Posted(
                        path=parts.path,
                        raw_query=parts.query,
                        query={k: v[0] for k, v in parse_qs(parts.query).items()},
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
                answer = json.dumps(receiver.answer).encode()
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver(monkeypatch):
    """A webhook receiver on a free port of 127.0.0.1, reached directly (no proxy)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with Receiver() as server:
        yield server


@pytest.fixture
def person(db):
    return RecipientFactory()


@pytest.fixture
def people(db):
    return RecipientFactory.create_batch(3)
