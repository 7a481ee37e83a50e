"""Real processes for the integration tests: a private Redis, a celery worker with beat, and a
webhook receiver on 127.0.0.1.

The Redis is the test's own (a redis-server on a free port), so a test may stop and start
it without disturbing anything else on the machine.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, timeout, interval=0.2, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")


class PrivateRedis:
    def __init__(self, log_dir):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = Path(log_dir) / "redis.log"
        self.process = None

    @staticmethod
    def available():
        return shutil.which("redis-server") is not None

    def start(self):
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10, message="redis to answer")

    def answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


class Worker:
    """``celery -A config worker --beat`` in its own process group, so SIGKILL takes all of it."""

    def __init__(self, *, broker_url, database_url, log_dir, concurrency=2, extra_env=None):
        self.log_path = Path(log_dir) / "worker.log"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "HTTPS": "false",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_VISIBILITY_TIMEOUT": "10",
            "NOTIFICATIONS_RELAY_EVERY_SECONDS": "2",
            "NOTIFICATIONS_RELAY_GRACE_SECONDS": "3",
            "NOTIFICATIONS_BACKOFF_BASE_SECONDS": "1",
            "NOTIFICATIONS_BACKOFF_CAP_SECONDS": "4",
            "LOG_LEVEL": "WARNING",
            "VAR_DIR": str(Path(log_dir) / "var"),
            **(extra_env or {}),
        }
        self.concurrency = concurrency
        self.process = None
        self.kills = 0

    def start(self):
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()
        self._log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--beat",
                f"--concurrency={self.concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=WARNING",
                f"--schedule={Path(self.env['VAR_DIR']) / 'beat-schedule'}",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self):
        """SIGKILL the worker, its pool children and beat: nothing gets to clean up."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.kills += 1
        self.process = None
        self._log.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        if getattr(self, "_log", None):
            self._log.close()

    def output(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Receiver:
    """A webhook endpoint that counts every POST and the distinct idempotency keys."""

    def __init__(self, *, delay_seconds=0.0):
        self.posts = Counter()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key") or body.get("id")
                if delay_seconds:
                    time.sleep(delay_seconds)
                with receiver.lock:
                    receiver.posts[key] += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    @property
    def distinct(self):
        with self.lock:
            return len(self.posts)

    @property
    def total(self):
        with self.lock:
            return sum(self.posts.values())

    def repeated(self):
        with self.lock:
            return {key: n for key, n in self.posts.items() if n > 1}
