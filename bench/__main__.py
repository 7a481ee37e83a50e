"""Command line of the benchmarks: ``python -m bench NAME [options] [--json]``.

Each benchmark is a module in ``BENCHMARKS`` with ``NAME``, ``HELP``, ``add_arguments(parser)``,
``run(options) -> dict`` and ``format_table(result) -> str``. Modules are imported only
after the environment defaults are set and Django is loaded.
"""

import argparse
import importlib
import json
import os
import sys

from .environment import setup_django

# Benchmark name -> module; add a line here to add a benchmark.
BENCHMARKS = {
    "pages": "bench.pages",
    "notifications": "bench.notifications",
    "escalation": "bench.escalation",
    "monthly": "bench.monthly",
    "docking": "bench.docking",
    "planning": "bench.planning",
    "pool": "bench.pool",
    "throughput": "bench.throughput",
}
# The services a benchmark needs, used when the environment names none.
SERVICES = {
    # Deliveries are enqueued, never run: the benchmark measures the escalating, not the sending.
    "escalation": {"CELERY_BROKER_URL": "memory://", "CELERY_TASK_ALWAYS_EAGER": "false"},
    "monthly": {"CELERY_BROKER_URL": "memory://"},
    "docking": {"CELERY_BROKER_URL": "memory://"},
    "pool": {"CELERY_BROKER_URL": "memory://"},
    "throughput": {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/keyprojects",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
    },
    "notifications": {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/keyprojects",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/13",
    },
}


def load(name):
    return importlib.import_module(BENCHMARKS[name])


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks on a throwaway database; DATABASE_URL chooses the database (unset: SQLite).",
    )
    names = parser.add_subparsers(dest="benchmark", required=True, metavar="NAME")
    for name in BENCHMARKS:
        module = load(name)
        sub = names.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sub)
        sub.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if arg in BENCHMARKS), None)
    for name, value in SERVICES.get(chosen, {}).items():
        os.environ.setdefault(name, value)
    setup_django()
    options = build_parser().parse_args(argv)
    module = load(options.benchmark)
    try:
        result = module.run(options)
    except RuntimeError as problem:
        print(f"python -m bench {options.benchmark}: {problem}", file=sys.stderr)
        return 2
    if options.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(module.format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
