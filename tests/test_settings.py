"""Settings come from the environment, and production values pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x7Gq2pLmN9vRt4sWz8bYc1dFh6jKe5aU0iOo3rEy7uTq9wPl2mNb",
    "ALLOWED_HOSTS": "kp.example.gov.cn",
    "CSRF_TRUSTED_ORIGINS": "https://kp.example.gov.cn",
    "DATABASE_URL": "postgres://kp:secret@db.internal:5432/keyprojects",
    "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.gov.cn:587",
}


def manage(*args, env):
    """Run manage.py with only the given environment (and PATH), as a deployment would."""
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


def test_production_values_pass_the_deployment_checks():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_a_secret_key_and_debug_off_the_settings_refuse_to_load():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_embedded_defaults_load_with_debug_on_and_no_secret():
    result = manage("check", env={"DEBUG": "true", "DATABASE_URL": "sqlite://:memory:"})
    assert result.returncode == 0, result.stderr


def test_environment_values_reach_the_settings(settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.DATABASES["default"]["ENGINE"].startswith("django.db.backends.")
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.TIME_ZONE, s.CELERY_BROKER_URL, s.EMAIL_HOST)",
        env={**PRODUCTION, "TIME_ZONE": "Asia/Urumqi"},
    )
    assert result.stdout.strip().splitlines()[-1].split() == ["Asia/Urumqi", "redis://redis.internal:6379/0", "smtp.example.gov.cn"]


def readme_production_environment():
    """The variables the README's production block exports, with a real secret for its ``...``."""
    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("```sh\nexport DEBUG=false") :].split("```", 2)[1]
    exported = block.split("\n.venv/bin/")[0].replace("\\\n", " ").split("export", 1)[1]
    values = dict(item.split("=", 1) for item in exported.split())
    assert values["SECRET_KEY"] == "..."
    return {**values, "SECRET_KEY": PRODUCTION["SECRET_KEY"]}


def test_the_readmes_production_settings_pass_the_deployment_checks_without_a_warning():
    environment = readme_production_environment()
    assert environment["DEBUG"] == "false" and environment["DATABASE_URL"].startswith("postgres://")

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=environment)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
