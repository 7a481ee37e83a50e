"""Which outside services the tests can reach, and the rule for when they cannot.

Tests that need PostgreSQL or Chromium are skipped with the reason when the service is
missing, except under ``CI=true``, where a missing service fails them.
"""

import os
import shutil
import socket
import sys
from urllib.parse import urlparse

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REDIS_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/12")
POSTGRES_URL = os.environ.get("PG_TEST_URL", "postgres://postgres@127.0.0.1:5432/keyprojects")


def in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def chromium_path():
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


def tcp_reachable(url, default_port):
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def main(argv):
    """``python -m tests.services postgres URL``: exit 0 when reachable, else say why."""
    kind, url = argv[1], argv[2]
    if kind == "postgres" and tcp_reachable(url, 5432):
        return 0
    print(f"{kind} is not reachable at {url}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
