"""English and Simplified Chinese are both complete: nothing untranslated, nothing fuzzy."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SOURCES = ["cases", "config", "notifications", "workflow", "templates", "manage.py", "locale"]


def problems(po):
    untranslated = [e.msgid for e in po.untranslated_entries() if not e.obsolete]
    fuzzy = [e.msgid for e in po.fuzzy_entries() if not e.obsolete]
    return untranslated, fuzzy


def test_the_committed_catalog_has_no_untranslated_or_fuzzy_entry():
    untranslated, fuzzy = problems(polib.pofile(str(CATALOG)))
    assert untranslated == [] and fuzzy == []


def test_the_compiled_catalog_matches_its_source():
    po = polib.pofile(str(CATALOG))
    mo = polib.mofile(str(CATALOG.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in po.translated_entries():
        assert compiled.get((entry.msgctxt, entry.msgid)) == (entry.msgstr, entry.msgstr_plural), (
            f"{entry.msgid!r} differs in django.mo: run `python -m config.compile_messages`"
        )


@pytest.mark.skipif(not shutil.which("xgettext"), reason="needs GNU gettext (apt-get install gettext)")
def test_every_string_in_the_source_is_in_the_catalog_and_translated(tmp_path):
    """Extract the strings afresh from a copy of the sources, as `make messages` would."""
    for name in SOURCES:
        source = ROOT / name
        target = tmp_path / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, target)
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--no-location"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "true", "DATABASE_URL": "sqlite://:memory:"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    untranslated, fuzzy = problems(polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po")))
    assert untranslated == [], f"untranslated: {untranslated} (run `make messages` and translate them)"
    assert fuzzy == [], f"fuzzy: {fuzzy}"


def test_the_pages_speak_chinese_when_asked(org, as_user):
    client = as_user(org.head)
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("cases:projects:detail", args=[org.project.pk]))
    body = response.content.decode()
    assert "下一步" in body and "前期手续清单" in body and "储备" in body


def test_guard_reasons_are_given_in_the_readers_language(org):
    from cases.guards import select

    with translation.override("zh-hans"):
        reasons = select(org.project)
    assert "尚未填写计划开工日期。" in reasons
