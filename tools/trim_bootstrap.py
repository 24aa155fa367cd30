"""Write Bootstrap cut down to the classes casemgmt uses: 31 KB of gzip becomes ~9 KB on a phone.

    python tools/trim_bootstrap.py          write casemgmt/static/vendor/bootstrap/bootstrap.used.min.css
    python tools/trim_bootstrap.py --check  exit 1 if the written file lacks a rule the sources now need

The vendored bootstrap.min.css stays untouched next to it. A rule is kept when every class its
selector names (outside :not(), :is() and the like) is a word somewhere in templates/, casemgmt/*.py
or our own static files: over-generous on purpose, since a missing rule is an unstyled page and an
extra one only a few bytes. Class names assembled at run time are listed in DYNAMIC_PREFIXES.
tests/test_transfer_size.py fails while the written file is out of date.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import tinycss2

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "casemgmt" / "static" / "vendor" / "bootstrap"
SOURCE = VENDOR / "bootstrap.min.css"
TARGET = VENDOR / "bootstrap.used.min.css"
# Classes a template builds from data: base.html's alert-{{ category }} for flashed messages.
DYNAMIC_PREFIXES = ("alert-",)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_BLOCKS = ("media", "supports", "container", "layer")


def source_files() -> list[Path]:
    files = list((ROOT / "templates").rglob("*.html"))
    files += [p for p in (ROOT / "casemgmt").rglob("*") if p.suffix in (".py", ".html", ".js", ".css")
              and "vendor" not in p.relative_to(ROOT).parts]
    return sorted(files)


def used_words() -> set[str]:
    words: set[str] = set()
    for path in source_files():
        words.update(_WORD.findall(path.read_text(encoding="utf-8")))
    return words


def _selectors(prelude) -> list[list]:
    """A rule's selector list split at its top-level commas, as token lists."""
    out, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            out.append(current)
            current = []
        else:
            current.append(token)
    out.append(current)
    return out


def _classes(selector) -> list[str]:
    return [b.value for a, b in zip(selector, selector[1:])
            if a.type == "literal" and a.value == "." and b.type == "ident"]


def _wanted(name: str, words: set[str]) -> bool:
    return name in words or name.startswith(DYNAMIC_PREFIXES)


def _trim_rules(rules, words: set[str], found: set[str] | None = None, context: str = "") -> list[str]:
    """The rules the sources need, serialized; ``found`` collects each kept selector with the
    at-rules around it (``context``), for comparing two sheets."""
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            kept = [tinycss2.serialize(s).strip() for s in _selectors(rule.prelude)
                    if all(_wanted(c, words) for c in _classes(s))]
            if found is not None:
                found.update(context + selector for selector in kept)
            if kept:
                out.append(",".join(kept) + "{" + tinycss2.serialize(rule.content) + "}")
        elif rule.type == "at-rule" and rule.content is not None and rule.lower_at_keyword in _BLOCKS:
            inner = _trim_rules(tinycss2.parse_rule_list(rule.content, skip_whitespace=True, skip_comments=True),
                                words, found, context + "@" + rule.at_keyword + tinycss2.serialize(rule.prelude).strip()
                                + " ")
            if inner:
                out.append("@" + rule.at_keyword + tinycss2.serialize(rule.prelude) + "{" + "".join(inner) + "}")
        elif rule.type == "at-rule" and rule.lower_at_keyword != "charset":
            out.append(tinycss2.serialize([rule]))
    return out


def kept_selectors(css: str, words: set[str] | None = None) -> set[str]:
    """Every selector (with the at-rules around it) the trimmed sheet keeps, for comparing sheets."""
    found: set[str] = set()
    _trim_rules(tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True),
                used_words() if words is None else words, found)
    return found


def trim(css: str, words: set[str]) -> str:
    banner = re.search(r"/\*!.*?\*/", css, re.S).group(0)
    rules = tinycss2.parse_stylesheet(css, skip_whitespace=True, skip_comments=True)
    note = "/* Cut down to the classes casemgmt uses by tools/trim_bootstrap.py; do not edit. */\n"
    return '@charset "UTF-8";' + banner + "\n" + note + "".join(_trim_rules(rules, words)) + "\n"


def missing_from_target() -> set[str]:
    """Rules the sources now need that the written file lacks (empty when it is up to date)."""
    words = used_words()
    needed = kept_selectors(SOURCE.read_text(encoding="utf-8"), words)
    have = kept_selectors(TARGET.read_text(encoding="utf-8"), words) if TARGET.exists() else set()
    return needed - have


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        missing = missing_from_target()
        for selector in sorted(missing)[:40]:
            print("missing:", selector)
        return 1 if missing else 0
    TARGET.write_text(trim(SOURCE.read_text(encoding="utf-8"), used_words()), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
