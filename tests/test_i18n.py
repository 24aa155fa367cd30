"""Every piece of text a person sees is translated: Indonesian by default, English on request."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "casemgmt" / "translations"
TEMPLATES = ROOT / "templates"
# Words that are the same in every language: the product's name, and the languages' own names.
ALLOWED_WORDS = {"casemgmt"}
TEXT_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "label", "data-confirm", "data-label"}


def catalogue(lang, domain="messages"):
    with (CATALOGUES / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        return read_po(fh, locale=lang)


def untranslated(cat):
    missing = []
    for message in cat:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(s and s.strip() for s in strings):
            missing.append(message.id)
    return missing


@pytest.mark.parametrize("lang", ["id", "en"])
def test_catalogue_is_complete(lang):
    assert untranslated(catalogue(lang)) == []


def test_catalogue_has_every_message_of_the_code_and_templates(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "lazy_gettext", "--no-location", "--omit-header", "-o", str(pot), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    have = {m.id for m in catalogue("id") if m.id}
    assert sorted(wanted - have, key=str) == [], "run `make i18n` and translate the new messages"


def test_wtforms_messages_are_all_translated():
    """WTForms ships no Indonesian; its messages are translated here (casemgmt.forms.WTFORMS_MESSAGES).
    Every message of the installed WTForms is, so an upgrade that adds one fails here first."""
    import wtforms.i18n

    with (Path(wtforms.i18n.messages_path()) / "wtforms.pot").open("rb") as fh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    ours = catalogue("id", "wtforms")
    assert wanted <= {m.id if isinstance(m.id, str) else m.id[0] for m in ours if m.id}
    assert untranslated(ours) == []


@pytest.mark.parametrize("domain", ["messages", "wtforms"])
def test_placeholders_survive_translation(domain):
    for message in catalogue("id", domain):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        # %(name)s for gettext, {name} for the API's field messages (api.messages.Message, which a
        # translation missing one would turn into an error inside the error handler).
        pattern = r"%\(\w+\)[sd]|\{\w+\}"
        wanted = set(re.findall(pattern, ids[0]))
        for s in strings:
            assert set(re.findall(pattern, s)) == wanted, message.id


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in TEXT_ATTRIBUTES and value:
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text):
        for word in re.findall(r"[A-Za-zÀ-ÿ]{2,}", text):
            if word not in ALLOWED_WORDS:
                self.found.append(text.strip())
                return


def untranslated_template_text(source: str) -> list[str]:
    source = re.sub(r"\{#.*?#\}", "", source, flags=re.S)
    source = re.sub(r"\{\{.*?\}\}", "", source, flags=re.S)
    source = re.sub(r"\{%.*?%\}", "", source, flags=re.S)
    finder = _TextFinder()
    finder.feed(source)
    return finder.found


def test_the_template_checker_catches_raw_text():
    assert untranslated_template_text("<p>Save</p>") == ["Save"]
    assert untranslated_template_text('<input placeholder="Search">') == ["Search"]
    assert untranslated_template_text("<p>{{ _('Save') }} &larr; 73.06</p>") == []


@pytest.mark.parametrize("path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_untranslated_text(path):
    assert untranslated_template_text(path.read_text()) == []


def test_error_pages_in_both_languages(web):
    response = web.get("/tidak-ada")
    assert response.status_code == 404
    assert "Tidak ditemukan" in response.get_data(as_text=True)
    web.get("/lang/en")
    assert "Not found." in web.get("/tidak-ada").get_data(as_text=True)


# The words the field uses, as ../shared/DOMAIN.md and the district trainings name them.
FIELD_TERMS = {
    "Complaint": "Pengaduan",
    "Assessment": "Asesmen",
    "Intervention plan": "Rencana intervensi",
    "Termination": "Terminasi",
    "Referrals": "Rujukan",
    "Case conferences": "Konferensi kasus",
    "Monitoring and evaluation": "Monitoring dan evaluasi",
    "Intervention": "Intervensi",
}


def test_the_field_terms_are_used():
    strings = {m.id: m.string for m in catalogue("id") if m.id}
    assert {k: strings.get(k) for k in FIELD_TERMS} == FIELD_TERMS


def test_translations_follow_the_locale_within_one_request(app):
    """The catalogues kept by locale (extensions.LocaleDomain) answer the locale asked now."""
    from flask_babel import force_locale, gettext

    from casemgmt.extensions import LocaleDomain, babel

    assert isinstance(babel.domain_instance, LocaleDomain)
    with app.test_request_context("/"):
        assert gettext("Timeline") == "Riwayat"
        with force_locale("en"):
            assert gettext("Timeline") == "Timeline"
        assert gettext("Timeline") == "Riwayat"


def test_templates_translate_in_the_locale_asked_now(app):
    """Templates read the kept catalogue (LocaleBabel.init_app); a change of locale is followed."""
    from flask import render_template_string
    from flask_babel import force_locale

    with app.test_request_context("/"):
        assert render_template_string("{{ _('Timeline') }}") == "Riwayat"
        with force_locale("en"):
            assert render_template_string("{{ _('Timeline') }} {{ ngettext('%(num)d day', '%(num)d days', 2) }}") \
                == "Timeline 2 days"
        assert render_template_string("{{ _('Timeline') }}") == "Riwayat"


@settings(max_examples=60, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31)),
       aware=st.booleans())
def test_moments_are_written_as_babel_writes_them(app, moment, aware):
    """The pages' datetime filter parses each pattern once (i18n.format_datetime): what it writes
    is what Flask-Babel writes, in both languages, every named format and a pattern."""
    import flask_babel

    from casemgmt import i18n

    if aware:
        moment = moment.replace(tzinfo=timezone(timedelta(hours=-3)))
    for lang in ("id", "en"):
        with app.test_request_context(headers={"Accept-Language": lang}):
            from flask import session

            session["lang"] = lang
            flask_babel.refresh()
            for fmt in (*i18n.NAMED_FORMATS, "d MMM yyyy HH.mm", "EEEE, d MMMM y 'pukul' HH:mm"):
                assert i18n.format_datetime(moment, fmt) == flask_babel.format_datetime(moment, fmt), (lang, fmt)
