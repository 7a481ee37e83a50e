"""Setting up Django for a benchmark, and a throwaway database that never touches the developer's.

The database is created the way Django's test runner creates one, from the connection
``DATABASE_URL`` names (SQLite when it is unset), under a name of its own: a temporary file
on SQLite, ``bench_<name>_<pid>`` on PostgreSQL. It is dropped when the benchmark ends.
"""

import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager

# Defaults for a benchmark run; an explicit environment variable wins.
BENCH_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "bench-only-secret-key-never-used-by-a-deployment-0123456789",
    "HTTPS": "false",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "LOG_LEVEL": "ERROR",
}

_started = time.perf_counter()


def log(message):
    """A progress line on stderr; stdout is kept for the one JSON object."""
    print(f"[bench {time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def setup_django():
    """Apply the benchmark's environment defaults, then load Django's settings and apps."""
    for name, value in BENCH_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    # WhiteNoise warns that static files were never collected; the benchmarks serve none.
    warnings.filterwarnings("ignore", message=r"No directory at: .*static", category=UserWarning)
    import django
    from django.conf import settings

    # ``bench`` is an application while a benchmark runs, so that viewflow can name the flow
    # of bench/timer_flow.py (a flow must live in an installed application).
    if "bench" not in settings.INSTALLED_APPS:
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "bench"]
    django.setup()


def _raise_system_exit(signum, frame):
    raise SystemExit(128 + signum)


def _throwaway_name(settings_dict, vendor, directory):
    if vendor == "sqlite":
        return os.path.join(directory, "bench.sqlite3")
    base = os.path.basename(str(settings_dict["NAME"])) or "keyprojects"
    # Distinct from Django's and pytest's ``test_<name>``, and from other benchmark runs.
    return f"bench_{base}_{os.getpid()}"[:63]


@contextmanager
def throwaway_database():
    """A freshly migrated database for the default connection; yields the connection.

    On SQLite the database is a file in a temporary directory, not memory, so that the
    measurements include the file system as a deployment would.
    """
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    # A terminated benchmark still drops its database.
    previous_handler = signal.signal(signal.SIGTERM, _raise_system_exit)
    directory = tempfile.mkdtemp(prefix="kp-bench-")
    original_name = connection.settings_dict["NAME"]
    throwaway_name = _throwaway_name(connection.settings_dict, connection.vendor, directory)
    connection.settings_dict.setdefault("TEST", {})["NAME"] = throwaway_name
    setup_test_environment()
    try:
        log(f"creating a throwaway {connection.vendor} database {throwaway_name}")
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False, keepdb=False)
        yield connection
    finally:
        try:
            # Only ever drop the throwaway database, never the one the settings name.
            if connection.settings_dict["NAME"] == throwaway_name:
                log("dropping the throwaway database")
                connection.creation.destroy_test_db(original_name, verbosity=0, keepdb=False)
        finally:
            teardown_test_environment()
            shutil.rmtree(directory, ignore_errors=True)
            signal.signal(signal.SIGTERM, previous_handler)
