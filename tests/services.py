"""Which outside services the tests can reach, and the rule for when they cannot.

Tests that need PostgreSQL, Chromium, slapd or the test OpenID provider are skipped with the reason when the service is
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


SLAPD_TOOLS = ("slapd", "slapadd")
SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


def slapd_tool(name):
    """The path of one of OpenLDAP's server tools (Debian keeps them in /usr/sbin), or None."""
    return shutil.which(name, path=SBIN)


def missing_ldap():
    """Why a private slapd cannot run here, or None."""
    missing = [name for name in SLAPD_TOOLS if not slapd_tool(name)]
    if missing:
        return f"needs {' and '.join(missing)} to run a private directory (apt-get install slapd ldap-utils)"
    try:
        import django_auth_ldap  # noqa: F401  (the extra `ldap`, python-ldap with it)
    except ImportError:
        return 'needs django-auth-ldap and python-ldap (pip install -e ".[ldap]", with libldap2-dev and libsasl2-dev)'
    return None


def missing_oidc_provider():
    """Why the test OpenID provider cannot run here, or None."""
    try:
        import oidc_provider  # noqa: F401
    except ImportError:
        return 'needs django-oidc-provider (pip install -e ".[test]")'
    return None


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
