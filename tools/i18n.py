"""Refresh the message catalogues: extract, update id and en, fill English from the source, compile.

    python tools/i18n.py            extract + update + fill en + compile
    python tools/i18n.py compile    compile only (what setup runs)

Source strings are English; Bahasa Indonesia (id) is translated by hand in
casemgmt/translations/id/LC_MESSAGES/messages.po. tests/test_i18n.py fails while any
message there lacks a translation or is marked fuzzy.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "casemgmt" / "translations"
POT = TRANSLATIONS / "messages.pot"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def run(*args: str) -> None:
    subprocess.run([*PYBABEL, *args], check=True, cwd=ROOT)


def extract() -> None:
    run("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-k", "Message", "--no-location",
        "--sort-output", "--omit-header", "-o", str(POT), ".")
    for lang in ("id", "en"):
        po = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        if po.exists():
            run("update", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", lang, "--no-fuzzy-matching",
                "--ignore-obsolete")
        else:
            run("init", "-i", str(POT), "-d", str(TRANSLATIONS), "-l", lang)
    fill_english()


def fill_english() -> None:
    """The English catalogue is the source text itself; filled so it is complete, not empty."""
    po_path = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    for message in catalog:
        if not message.id:
            continue
        message.flags.discard("fuzzy")
        if isinstance(message.id, tuple):
            message.string = tuple(message.id)
        else:
            message.string = message.id
    with po_path.open("wb") as fh:
        write_po(fh, catalog, omit_header=False, sort_output=True, no_location=True)


def compile_all() -> None:
    run("compile", "-d", str(TRANSLATIONS), "--statistics")
    # WTForms' own messages, translated by hand (casemgmt.forms.WTFORMS_MESSAGES; WTForms has no id).
    run("compile", "-d", str(TRANSLATIONS), "-D", "wtforms", "--statistics")


if __name__ == "__main__":
    if sys.argv[1:] != ["compile"]:
        extract()
    compile_all()
