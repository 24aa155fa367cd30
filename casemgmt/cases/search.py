"""Full-text search over case number, child's name and narrative.

SQLite: an FTS5 index (case_fts) over case_record.search_text and its district, kept in step
by triggers, so a coordinator's search reads only their district's matches.
PostgreSQL: a GIN index on case_search_terms(district_code, search_text): the lexemes of
to_tsvector('simple', search_text), and each of them again behind its district (" 73.06 baso"),
so a coordinator's search reads only their district's lists of its words. 'simple' because names
and Indonesian text gain nothing from an English stemmer. Queries match every word as a prefix.

A prefix is slow in both indexes (each merges every matching word's list before it can stop),
an exact word is fast. So the words the index holds are kept in search_word (models.SearchWord),
and each typed word is searched as the exact words it begins when there are not too many of
them (MAX_EXPANSION); otherwise as a prefix (on PostgreSQL, where the index is asked: a
coordinator's search; other scopes test their own cases, _indexed). PostgreSQL fills search_word from its own lexemes
by trigger; on SQLite the app adds the words of each new search text (vocabulary_words reads
them as FTS5's unicode61 tokenizer does) and the index's own vocabulary fills it at migration.
"""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (DDL, Text, and_, cast, column, event, false, func, inspect, literal, literal_column, or_,
                        select, table, text)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casemgmt.cases.models import Case, SearchWord

# SQLite: FTS5 indexes each case's search text, and its district in a column of its own ("73.06"
# as "7306"), read from case_fts_source. A district's search asks for both, so FTS5 hands over
# that district's matches only: joined to the cases to test the district, a common name's
# matches of the whole province each read a case row, 600 or so for a page of 26, from disk
# when cold (p95 33 ms against 10 ms, 60 names of a district on the 1M-case database after
# the index itself was read once). A user's words are searched in search_text only.
SQLITE_INDEX = (
    "CREATE VIEW IF NOT EXISTS case_fts_source AS "
    "SELECT id, search_text, replace(district_code, '.', '') AS district FROM case_record",
    "CREATE VIRTUAL TABLE IF NOT EXISTS case_fts USING fts5(search_text, district, "
    "content='case_fts_source', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS case_record_fts_insert AFTER INSERT ON case_record BEGIN "
    "INSERT INTO case_fts(rowid, search_text, district) "
    "VALUES (new.id, new.search_text, replace(new.district_code, '.', '')); END",
    "CREATE TRIGGER IF NOT EXISTS case_record_fts_delete AFTER DELETE ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text, district) "
    "VALUES ('delete', old.id, old.search_text, replace(old.district_code, '.', '')); END",
    "CREATE TRIGGER IF NOT EXISTS case_record_fts_update AFTER UPDATE OF search_text, district_code "
    "ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text, district) "
    "VALUES ('delete', old.id, old.search_text, replace(old.district_code, '.', '')); "
    "INSERT INTO case_fts(rowid, search_text, district) "
    "VALUES (new.id, new.search_text, replace(new.district_code, '.', '')); END",
)
SQLITE_DDL = SQLITE_INDEX + SQLITE_TRIGGERS

# A migration that rebuilds case_record on SQLite (batch mode) loses its triggers, and SQLite will
# not rename the rebuilt table into place while a view reads it: such a migration drops
# case_fts_source before the step, makes the view and triggers again after it from its own frozen
# copy of these statements (as b7e4a2c9d1f3 does), then rebuilds the index.
SQLITE_REBUILD = "INSERT INTO case_fts(case_fts) VALUES ('rebuild')"

# FTS5 keeps its index as segments: each transaction's new entries one small segment more, merged
# a few at a time as they pile up; a rebuild leaves several large ones (9 on the 1M-case database).
# A search asks every segment for each of its words, so each segment is pages more to read: the
# FTS query of a child's name read 560 KB from a cold file with 9 segments, 330 KB with one
# (12-15 -> 6-9 ms; bench/RESULTS.md, ninth session). 'optimize' merges them all into one: 2.4 s
# at 1M cases, during which writers wait (busy_timeout), so it runs at night (tasks.compact_search).
SQLITE_OPTIMIZE = "INSERT INTO case_fts(case_fts) VALUES ('optimize')"


def index_segments(connection) -> int:
    """SQLite: how many segments the FTS index holds (0 elsewhere)."""
    if connection.dialect.name != "sqlite":
        return 0
    return connection.scalar(text("SELECT count(DISTINCT segid) FROM case_fts_idx"))


def compact_index(connection) -> int:
    """SQLite: merge the FTS index into one segment; the number of segments there were. On
    PostgreSQL nothing (autovacuum moves GIN's pending entries into the index): 0."""
    segments = index_segments(connection)
    if segments > 1:
        connection.execute(text(SQLITE_OPTIMIZE))
    return segments


def is_search_artifact(name: str | None) -> bool:
    """Tables SQLite makes for the FTS index, which the models do not describe."""
    return bool(name) and name.startswith("case_fts")


def install_sqlite_search(target, connection, **kw) -> None:
    if connection.dialect.name == "sqlite":
        for statement in SQLITE_DDL:
            connection.execute(text(statement))


event.listen(Case.__table__, "after_create", install_sqlite_search)

# PostgreSQL: what the search index (models.Case: ix_case_record_fts) holds of a case: its words,
# and each again behind its district, whose list of a common first name is an eighth of the
# province's (migration 9c1e5d7a3f48 has the figures). A word behind its district starts with a
# space, which no lexeme of to_tsvector or to_tsquery does: a search for "73" matches none of them.
POSTGRESQL_TERMS = (
    "CREATE OR REPLACE FUNCTION case_search_terms(district text, search_text text) RETURNS tsvector "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT words || array_to_tsvector(ARRAY(SELECT ' ' || district || ' ' || lexeme FROM unnest(words))) "
    "FROM to_tsvector('simple'::regconfig, search_text) AS words $$"
)
event.listen(Case.__table__, "before_create", DDL(POSTGRESQL_TERMS).execute_if(dialect="postgresql"))
event.listen(Case.__table__, "before_drop", DDL("DROP TABLE IF EXISTS case_fts").execute_if(dialect="sqlite"))
event.listen(Case.__table__, "before_drop", DDL("DROP VIEW IF EXISTS case_fts_source").execute_if(dialect="sqlite"))

# PostgreSQL keeps search_word in step with the lexemes it indexes.
POSTGRESQL_DDL = (
    "CREATE OR REPLACE FUNCTION case_record_search_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO search_word (word) SELECT lexeme FROM unnest(to_tsvector('simple', NEW.search_text)) "
    "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    "CREATE TRIGGER case_record_search_words AFTER INSERT OR UPDATE OF search_text ON case_record "
    "FOR EACH ROW EXECUTE FUNCTION case_record_search_words()",
)
POSTGRESQL_FILL = ("INSERT INTO search_word (word) SELECT DISTINCT lexeme FROM case_record, "
                   "unnest(to_tsvector('simple', search_text)) ON CONFLICT DO NOTHING")
# SQLite: the words FTS5 itself holds of the search texts (its fts5vocab view; not the district
# column), at migration and after bulk loads.
SQLITE_FILL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.case_fts_terms USING fts5vocab(main, case_fts, col)",
    "INSERT OR IGNORE INTO search_word (word) SELECT term FROM temp.case_fts_terms WHERE col = 'search_text'",
    "DROP TABLE temp.case_fts_terms",
)


def install_search_words(target, connection, tables=(), **kw) -> None:
    """After create_all: the trigger needs both case_record and search_word."""
    if connection.dialect.name == "postgresql" and SearchWord.__table__ in tables:
        for statement in POSTGRESQL_DDL:
            connection.execute(text(statement))


event.listen(SearchWord.metadata, "after_create", install_search_words)

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def vocabulary_words(text_: str) -> set[str]:
    """The words FTS5's tokenizer (unicode61 remove_diacritics 2) makes of a Latin text: runs of
    letters and digits, each character lower-cased on its own, diacritics removed (canonical
    decomposition only: FTS5 keeps ligatures, full-width letters and superscripts as they are)."""
    decomposed = unicodedata.normalize("NFD", text_ or "")
    folded = "".join(ch.lower() for ch in decomposed if not unicodedata.combining(ch))
    return set(_TOKEN.findall(folded))


def _latin(word: str) -> bool:
    """Whether vocabulary_words reads ``word`` exactly as FTS5 does: Latin letters (to U+024F),
    digits and their combining accents only."""
    return all(ord(ch) < 0x250 or unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", word))


def _lock_words(mapper, connection, target) -> None:
    """PostgreSQL: before the UPDATE whose trigger adds the new text's words (a ROW EXCLUSIVE
    lock on search_word), take the lock forget_words needs. Taken after it, two edits at once
    each held the weaker lock and waited for the other's (a deadlock)."""
    if connection.dialect.name == "postgresql" and any(inspect(target).attrs.search_text.history.deleted):
        connection.execute(text("LOCK TABLE search_word IN SHARE ROW EXCLUSIVE MODE"))


def _keep_words(mapper, connection, target) -> None:
    """search_word follows every search text written through the models: on SQLite the new
    text's words are added here (PostgreSQL's trigger adds its own lexemes); on both, the words
    of a replaced text that no case holds any more are dropped, so an edited or anonymised
    child's name does not stay behind."""
    history = inspect(target).attrs.search_text.history
    if not history.has_changes():
        return
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        words = vocabulary_words(target.search_text)
        if words:
            connection.execute(sqlite_insert(SearchWord).on_conflict_do_nothing(),
                               [{"word": word} for word in sorted(words)])
    replaced = [old for old in history.deleted if old]
    if replaced:
        forget_words(connection, replaced, keep=target.search_text)


event.listen(Case, "before_update", _lock_words)
event.listen(Case, "after_insert", _keep_words)
event.listen(Case, "after_update", _keep_words)


def forget_words(connection, texts: list[str], keep: str = "") -> None:
    """Drop from search_word the words of ``texts`` (search texts just replaced, already written)
    that no case's search text holds any more."""
    if connection.dialect.name == "sqlite":
        words = set().union(*(vocabulary_words(t) for t in texts)) - vocabulary_words(keep)
        probe = text("SELECT 1 FROM case_fts WHERE case_fts MATCH :q LIMIT 1")
        quoted = {word: "search_text : " + _fts_phrase(word) for word in words}
    else:
        lexemes = text("SELECT lexeme FROM unnest(to_tsvector('simple', :t))")
        words = set().union(*(set(connection.scalars(lexemes, {"t": t})) for t in texts))
        words -= set(connection.scalars(lexemes, {"t": keep}))
        # Until commit, no case may add a word this is about to find unused (its trigger would see
        # the word present, add nothing, and the word would then be dropped): _lock_words locked
        # search_word before the case's UPDATE.
        probe = text("SELECT 1 FROM case_record WHERE case_search_terms(district_code, search_text) "
                     "@@ CAST(:q AS tsquery) LIMIT 1")
        quoted = {word: _tsquery_lexeme(word) for word in words}
    gone = [word for word in sorted(words) if connection.execute(probe, {"q": quoted[word]}).first() is None]
    if gone:
        connection.execute(SearchWord.__table__.delete().where(SearchWord.word.in_(gone)))


def _tsquery_lexeme(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _fts_phrase(word: str) -> str:
    """SQLite: ``word`` as an FTS5 string, which FTS5 reads as the tokens it holds, nothing else."""
    return '"' + word.replace('"', '""') + '"'


# How many exact words a prefix may stand for. FTS5 answers even a few hundred OR-ed words
# far faster than their prefix ("a": 7 ms against 148 ms on the 1M-case database); PostgreSQL's
# GIN index gains only while they are few ("nur", some 50 lexemes: 130 ms as words, 69 ms as a
# prefix, measured on the first, plain GIN index of to_tsvector).
MAX_EXPANSION = {"sqlite": 200, "postgresql": 30}


def _expansion(session, word: str, dialect: str) -> list[str] | None:
    """The indexed words that begin with ``word``; None when none is known or there are more
    than MAX_EXPANSION (the word is then searched as a prefix)."""
    most = MAX_EXPANSION.get(dialect, 0)
    found = list(session.scalars(select(SearchWord.word).where(
        SearchWord.word >= word, SearchWord.word < word + "\U0010ffff").order_by(SearchWord.word)
        .limit(most + 1)))
    return found if 0 < len(found) <= most else None


_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query or "")][:12]


_CASE_NUMBER = re.compile(r"^\s*(\d{4})[-\s]?(\d{4})[-\s]?(\d{6})\s*$")
_FTS = table("case_fts", column("rowid"))


def case_number(query: str) -> str | None:
    """The case number a query is, if it is one ("7306-2026-000123", also without dashes)."""
    found = _CASE_NUMBER.match(query or "")
    return "-".join(found.groups()) if found else None


def restrict(statement, query: str, dialect: str, district: str | None = None):
    """``statement`` (a select of cases) narrowed to the cases whose search text holds every word
    of ``query`` as a prefix; a case number is looked up directly. On SQLite the FTS index drives
    the join, so results come newest (highest id) first without reading every match. On both,
    ``district``, when the statement holds that district's cases only (a coordinator's scope),
    has the index read that district's entries (SQLite: its district column)."""
    number = case_number(query)
    if number:
        return statement.where(Case.number == number)
    words = query_words(query)
    if not words:
        return statement
    from casemgmt.extensions import db

    if dialect == "sqlite":
        # Latin words are read as FTS5 reads them and searched as the exact words they begin;
        # other scripts (Greek accents, Hangul, Arabic marks) FTS5 folds differently from
        # vocabulary_words, so they go to FTS5 as typed, as prefixes it folds itself.
        latin = [word for word in words if _latin(word)]
        tokens = sorted(set().union(*(vocabulary_words(word) for word in latin)))
        groups = []
        for token in tokens:
            exact = _expansion(db.session, token, dialect)
            groups.append("(" + " OR ".join(_fts_phrase(w) for w in exact) + ")" if exact
                          else _fts_phrase(token) + "*")
        groups += [_fts_phrase(word) + "*" for word in sorted(set(words) - set(latin)) if _TOKEN.search(word)]
        statement = statement.join(_FTS, _FTS.c.rowid == Case.id)
        if not groups:  # only characters the index skips ("_"): nothing matches, as on PostgreSQL
            return statement.where(false())
        terms = ["search_text : " + group for group in groups]
        if district:
            terms.insert(0, "district : " + _fts_phrase(district.replace(".", "")))  # as case_fts_source
        return statement.where(text("case_fts MATCH :fts_query").bindparams(fts_query=" AND ".join(terms)))
    return statement.where(_indexed(words, district))


# A word that to_tsquery reads as itself, one lexeme: ASCII letters and digits. Only such words
# are written behind a district by hand, or looked for as substrings (_text_holds); any other goes
# to to_tsquery, as the words it parses.
_PLAIN = re.compile(r"[a-z0-9]{1,100}")


def _indexed(words: list[str], district: str | None):
    """PostgreSQL: the case holds every word as a prefix of one of its words. For a district's
    cases (a coordinator's scope, the only large one) the search index answers, each word read
    as the exact words it begins (behind the district, for plain words), or as a prefix. Any
    other scope (a social worker's cases, an agency's referred ones: hundreds to a few thousand)
    is read through its own indexes and each of its cases tested (_text_holds): the search index
    would have given the province's matches of each word to keep a few (a social worker's "a":
    784,000, 320 ms)."""
    if district is None:
        return _text_holds(Case.search_text, words)
    terms = func.case_search_terms(Case.district_code, Case.search_text)
    if not all(_PLAIN.fullmatch(word) for word in words):
        return terms.op("@@")(_tsquery(words))
    return terms.op("@@")(cast(literal(_query_text(words, True, f" {district} "), Text()), TSQUERY))


def _tsquery(words: list[str], expand: bool = True):
    """PostgreSQL: to_tsquery of every word (_query_text)."""
    return func.to_tsquery(literal_column("'simple'"), _query_text(words, expand))


def _query_text(words: list[str], expand: bool, behind: str = "") -> str:
    """PostgreSQL: the text of a tsquery of every word, as one of the exact words it begins (for
    the GIN index, when ``expand``) or as a prefix. With ``behind`` (" 73.06 "), each is written
    behind it, quoted, for a plain word's district terms; without, a prefix goes to to_tsquery as
    typed, to be parsed as the index's text was ("sitti_nur": "sitti" and "nur")."""
    from casemgmt.extensions import db

    groups = []
    for word in words:
        exact = _expansion(db.session, word, "postgresql") if expand else None
        if exact:
            groups.append("(" + " | ".join(_tsquery_lexeme(behind + w) for w in exact) + ")")
        else:
            groups.append((_tsquery_lexeme(behind + word) if behind else word) + ":*")
    return " & ".join(groups)


# PostgreSQL's GIN index gives all of a word's matches, unordered: a common first name (one case
# in twenty) is 6,000 matches in a district of 125,000, each read from the table and sorted for a
# page of 26 (30 ms). So a one-word search first reads the district's newest WALK cases in id
# order and stops at a page of matches, as SQLite's FTS5 does (some 800 read). When those hold a
# few matches but not a page, the word is common enough to walk on: up to FURTHER times as many
# cases below them are read, stopping at the page. Words rarer still are asked of the
# index, which then has few matches to read.
WALK = 1000
FURTHER = 10


def _text_holds(search_text, words: list[str]):
    """PostgreSQL, case by case: ``search_text`` holds every word as a prefix of one of its words.
    A word of ASCII letters and digits (one lexeme to to_tsquery) is a substring of the lower-cased
    text of every case that holds it (each lexeme is a token of the text, lower-cased character by
    character), so that cheap test is asked first and only the cases that pass are parsed (a walk
    of 800 cases: 9.3 -> 4.2 ms); other words ("sitti_nur" is two lexemes) go to to_tsvector alone.
    The planner runs the cheaper conditions first. This holds where lower() lower-cases as
    to_tsvector does, character by character: a database of the libc locale provider (initdb's
    default). With ICU, lower('İ') is 'i' and a combining dot, and such a name would be missed."""
    holds = func.to_tsvector(literal_column("'simple'"), search_text).op("@@")(_tsquery(words, expand=False))
    return and_(*(func.strpos(func.lower(search_text), word) > 0 for word in words if _PLAIN.fullmatch(word)),
                holds)


def _walk(scoped, word: str, limit: int, before: int | None, cases: int) -> tuple[list[int], int | None]:
    """The ids, newest first, of at most ``limit`` cases holding ``word`` among the ``cases``
    newest of ``scoped`` below id ``before``; and, when the page is not filled though ``scoped``
    held that many cases there, the id of the last one read (where a further walk would start).
    None instead when the page is filled, or when the walk read every case below ``before``: then
    the ids are the whole answer."""
    from casemgmt.extensions import db

    if before is not None:
        scoped = scoped.where(Case.id < before)
    recent = (scoped.add_columns(func.row_number().over(order_by=Case.id.desc()).label("n"))
              .order_by(Case.id.desc()).limit(cases).subquery())
    holds = _text_holds(recent.c.search_text, [word])
    # The matches, and the window's last case whether it matches or not: read only when the
    # walk gets that far without a page.
    rows = db.session.execute(select(recent.c.id, recent.c.n, holds).where(or_(holds, recent.c.n == cases))
                              .order_by(recent.c.id.desc()).limit(limit)).all()
    ids = [row[0] for row in rows if row[2]]
    end = rows[-1][0] if len(ids) < limit and rows and rows[-1][1] == cases else None
    return ids, end


def newest_matches(scoped, query: str, limit: int, before: int | None = None) -> list[int] | None:
    """PostgreSQL: the ids, newest first, of ``limit`` cases of ``scoped`` (a select of Case.id and
    Case.search_text from access.scope_cases, for a scope read in id order by an index: a
    district's) below id ``before`` whose search text holds ``query``, found among its newest
    cases; fewer when those are all the scope holds there. None when the query is not one word,
    or when the walk stops short of both a page and the scope's end."""
    words = query_words(query)
    if len(words) != 1 or case_number(query):
        return None
    ids, end = _walk(scoped, words[0], limit, before, WALK)
    # Found k in WALK cases, the rest of the page is expected within (limit - k) * WALK / k more.
    if end is not None and ids and len(ids) * (FURTHER + 1) >= limit:
        more, end = _walk(scoped, words[0], limit - len(ids), end, FURTHER * WALK)
        ids += more
    return ids if end is None else None


_DIGITS = re.compile(r"[0-9]+")
_ASCII_LETTER = re.compile(r"[a-z]")


def shown_match(query: str):
    """SQL: the case holds every word of ``query`` in what any viewer of it is shown, masked or
    not: the start of a part of its number ("2026", "000123"), or, for a word of one letter, an
    initial of the child's name ("S. S. O."). For the cases whose name, NIK and narrative the
    viewer is not shown (access.sees_case_text), whose search must not tell what those hold.
    A case number is found by restrict, as for everyone. Read case by case: such cases are few
    in any scope (a worker's registered complaints, an agency's referred cases)."""
    from casemgmt.cases.models import Child

    words = query_words(query)
    if not words:
        return None
    conditions = []
    for word in words:
        if _DIGITS.fullmatch(word):
            conditions.append(or_(Case.number.startswith(word), Case.number.contains("-" + word)))
        elif _ASCII_LETTER.fullmatch(word):
            # An initial is the first letter of a word of the name; a word starting with another
            # character (an apostrophe) is missed, never one that does not start with the letter.
            name = func.lower(Child.name)
            conditions.append(select(Child.id).where(Child.id == Case.child_id, or_(
                name.startswith(word), name.contains(" " + word))).correlate_except(Child).exists())
        else:
            return false()
    return and_(*conditions)


def newest_first(query: str | None, dialect: str) -> tuple | None:
    """The order of the results of ``restrict``: by id, which the FTS index gives without sorting.
    None when ``query`` searches for nothing."""
    if case_number(query):
        return (Case.id.desc(),)
    if not query_words(query):
        return None
    if dialect == "sqlite":
        return (_FTS.c.rowid.desc(),)
    # id + 0: an order no index gives. Otherwise PostgreSQL may walk the primary key backwards,
    # computing to_tsvector of every case until 26 match (0.8-1.4 s for a rare name), instead of
    # sorting the few hundred matches the GIN index finds.
    return ((Case.id + 0).desc(),)


def build_search_text(case) -> str:
    """What search finds a case by (search_text)."""
    child = case.child
    return search_text(case.number, child.name, child.nik, case.complaint.description)


def search_text(number: str, name: str, nik: str | None, description: str | None) -> str:
    """What search finds a case by: its number, the child's name as written and each of its words
    normalised where that differs (identity.name_key: "Djoko Soesilo" is found as "joko susilo"
    too), the NIK, the narrative.

    Each word's key, not the whole name's ("jokosusilo"): a whole-name key is a word of its own
    for nearly every child, so a first name typed in search stood for itself and every key it
    began ("fajar": "fajarpratiwi", "fajaryusuf" and 14 more), each a list more for the index to
    read (a cold name search read 630 KB against 450; migration 3e8b1f5c7a20). A word is both
    what spaces part and the runs of letters within it, which the index holds apart: "Nur'aini"
    is also "nuraini", as people type it (migration 8b3f0c5d2e19)."""
    from casemgmt.cases.identity import name_key

    tokens = _TOKEN.findall(name or "")
    held = {token.lower() for token in tokens}
    keys = dict.fromkeys(key for word in (name or "").split() + tokens if (key := name_key(word)) not in held)
    # The number's parts also go in space-separated: PostgreSQL's parser reads "-2026" as a
    # signed number, which a search for "2026" would not find.
    parts = [number, number.replace("-", " "), name, " ".join(k for k in keys if k), nik or "", description or ""]
    return " ".join(p for p in parts if p)
