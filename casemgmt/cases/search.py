"""Full-text search over case number, child's name and narrative.

SQLite: an FTS5 index (case_fts) over case_record.search_text, kept in step by triggers.
PostgreSQL: a GIN index on to_tsvector('simple', search_text). 'simple' because names and
Indonesian text gain nothing from an English stemmer. Queries match every word as a prefix.
"""
from __future__ import annotations

import re

from sqlalchemy import DDL, column, event, func, literal_column, table, text

from casemgmt.cases.models import Case

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5("
    "search_text, content='case_record', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS case_record_fts_insert AFTER INSERT ON case_record BEGIN "
    "INSERT INTO case_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS case_record_fts_delete AFTER DELETE ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS case_record_fts_update AFTER UPDATE OF search_text ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO case_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)

# Migrations that rebuild case_record on SQLite (batch mode) drop its triggers: call
# sqlite_statements() again after such a step, then rebuild the index.
SQLITE_REBUILD = "INSERT INTO case_fts(case_fts) VALUES ('rebuild')"


def sqlite_statements() -> tuple[str, ...]:
    return SQLITE_DDL


def is_search_artifact(name: str | None) -> bool:
    """Tables SQLite makes for the FTS index, which the models do not describe."""
    return bool(name) and name.startswith("case_fts")


def install_sqlite_search(target, connection, **kw) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            connection.execute(text(statement))


event.listen(Case.__table__, "after_create", install_sqlite_search)
event.listen(Case.__table__, "before_drop", DDL("DROP TABLE IF EXISTS case_fts").execute_if(dialect="sqlite"))

_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query or "")][:12]


_CASE_NUMBER = re.compile(r"^\s*(\d{4})[-\s]?(\d{4})[-\s]?(\d{6})\s*$")
_FTS = table("case_fts", column("rowid"))


def case_number(query: str) -> str | None:
    """The case number a query is, if it is one ("7306-2026-000123", also without dashes)."""
    found = _CASE_NUMBER.match(query or "")
    return "-".join(found.groups()) if found else None


def restrict(statement, query: str, dialect: str):
    """``statement`` (a select of cases) narrowed to the cases whose search text holds every word
    of ``query`` as a prefix; a case number is looked up directly. On SQLite the FTS index drives
    the join, so results come newest (highest id) first without reading every match."""
    number = case_number(query)
    if number:
        return statement.where(Case.number == number)
    words = query_words(query)
    if not words:
        return statement
    if dialect == "sqlite":
        fts_query = " AND ".join(f'"{w}"*' for w in words)
        return statement.join(_FTS, _FTS.c.rowid == Case.id).where(
            text("case_fts MATCH :fts_query").bindparams(fts_query=fts_query))
    ts_query = " & ".join(f"{w}:*" for w in words)
    return statement.where(func.to_tsvector(literal_column("'simple'"), Case.search_text).op("@@")(
        func.to_tsquery(literal_column("'simple'"), ts_query)))


def newest_first(query: str | None, dialect: str) -> tuple | None:
    """The order of the results of ``restrict``: by id, which the FTS index gives without sorting.
    None when ``query`` searches for nothing."""
    if case_number(query):
        return (Case.id.desc(),)
    if not query_words(query):
        return None
    return (_FTS.c.rowid.desc(),) if dialect == "sqlite" else (Case.id.desc(),)


def build_search_text(case) -> str:
    """What search finds a case by: its number, the child's name (as written and normalised), narrative."""
    from casemgmt.cases.identity import name_key

    child = case.child
    # The number's parts also go in space-separated: PostgreSQL's parser reads "-2026" as a
    # signed number, which a search for "2026" would not find.
    parts = [case.number, case.number.replace("-", " "), child.name, name_key(child.name), child.nik or "",
             case.complaint.description or ""]
    return " ".join(p for p in parts if p)
