"""viewflow's JavaScript speaks Chinese too: every string its script asks ``window.gettext`` and
``window.pgettext`` for is translated in locale/zh_Hans/LC_MESSAGES/djangojs.po (nothing
untranslated, nothing fuzzy), compiled, served by /jsi18n/ and loaded before the script."""

import json
import re
from pathlib import Path

import polib
import viewflow
from django.urls import reverse

from tests.test_translations import ROOT, problems

JS_CATALOG = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "djangojs.po"
VIEWFLOW_JS = Path(viewflow.__file__).resolve().parent / "static" / "viewflow" / "js" / "viewflow.min.js"
LITERAL = r'"((?:[^"\\]|\\.)*)"'


def viewflow_js_messages():
    """(context, msgid) of every string viewflow.min.js translates. The script binds
    ``window.gettext`` and ``window.pgettext`` to short names and calls them with literals."""
    source = VIEWFLOW_JS.read_text(encoding="utf-8")
    bound = re.search(r"let (\w+)=window\.gettext,(\w+)=window\.pgettext", source)
    assert bound, "viewflow.min.js no longer binds window.gettext and window.pgettext as this test reads it"
    gettext_name, pgettext_name = (re.escape(name) for name in bound.groups())
    plain = {(None, msgid) for msgid in re.findall(rf"(?<![\w.$]){gettext_name}\({LITERAL}\)", source)}
    in_context = set(re.findall(rf"(?<![\w.$]){pgettext_name}\({LITERAL},{LITERAL}\)", source))
    return plain | in_context


def js_catalog():
    return polib.pofile(str(JS_CATALOG))


def test_every_string_viewflows_script_translates_is_in_the_js_catalog_and_translated():
    wanted = viewflow_js_messages()
    assert len(wanted) >= 40  # months, days, their abbreviations and letters, the list's selection
    translated = {(entry.msgctxt, entry.msgid) for entry in js_catalog().translated_entries()}
    assert sorted(wanted - translated, key=str) == []


def test_the_js_catalog_has_no_untranslated_or_fuzzy_entry():
    untranslated, fuzzy = problems(js_catalog())
    assert untranslated == [] and fuzzy == []


def test_an_untranslated_or_fuzzy_js_entry_is_found(tmp_path):
    broken = js_catalog()
    broken.find("%(sel)s selected").msgstr = ""
    fuzzy = broken.find("January")
    fuzzy.flags.append("fuzzy")
    path = tmp_path / "djangojs.po"
    broken.save(str(path))

    assert problems(polib.pofile(str(path))) == (["%(sel)s selected"], ["January"])


def test_the_compiled_js_catalog_matches_its_source():
    mo = polib.mofile(str(JS_CATALOG.with_suffix(".mo")))
    compiled = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in mo}
    for entry in js_catalog().translated_entries():
        assert compiled.get((entry.msgctxt, entry.msgid)) == (entry.msgstr, entry.msgstr_plural), (
            f"{entry.msgid!r} differs in djangojs.mo: run `python -m config.compile_messages`"
        )


def served_catalog(client, language):
    client.cookies["django_language"] = language
    response = client.get(reverse("javascript-catalog"))
    assert response.status_code == 200
    found = re.search(r"const newcatalog = (\{.*?\});\n", response.content.decode(), re.S)
    return json.loads(found.group(1)) if found else {}  # a language with nothing to translate has no catalog


def test_jsi18n_gives_the_chinese_of_every_string_viewflows_script_translates(client):
    served = served_catalog(client, "zh-hans")

    for entry in js_catalog().translated_entries():
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        expected = [entry.msgstr_plural[0]] if entry.msgid_plural else entry.msgstr
        assert served.get(key) == expected, key
    assert served["three letter January\x04Jan"] == "1月" and served["%(sel)s selected"] == "已选中 %(sel)s 项"


def test_jsi18n_leaves_english_in_english(client):
    served = served_catalog(client, "en")

    assert "three letter January\x04Jan" not in served and "%(sel)s selected" not in served


def test_a_page_loads_the_catalog_before_viewflows_script(org, as_user):
    client = as_user(org.head)
    client.cookies["django_language"] = "zh-hans"

    page = client.get("/workflow/cycle/").content.decode()

    catalog = page.index(f'<script type="text/javascript" src="{reverse("javascript-catalog")}">')
    assert catalog < page.index("viewflow/js/viewflow.min.js")
