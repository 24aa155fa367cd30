"""Search text: each word of the child's name normalised, instead of the whole name as one word

Revision ID: 3e8b1f5c7a20
Revises: b7e4a2c9d1f3
Create Date: 2026-11-22 23:30:00

A case's search text held the child's whole name normalised as one word ("fajarpratiwi"), a word
of its own for nearly every child: a first name typed in search was searched as itself and as
every such key it began, 16 words for "fajar" on the million-case database, each a list more for
the index to read. It now holds each word's key where it differs from the word ("Djoko Soesilo":
"joko susilo"), so "joko susilo" finds that child too (it did not: "susilo" began no word), and
the name typed as one word ("jokosusilo") no longer does.

Every case's text is written again, then the index made from them (SQLite: FTS5 rebuilt and
merged into one segment; PostgreSQL: the GIN index made again) and search_word filled from the
index afresh. A maintenance step: case_record takes no writes meanwhile. On the million-case
database: 32 s on SQLite, 5 min on PostgreSQL (while a test run had the other core).
"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '3e8b1f5c7a20'
down_revision = 'b7e4a2c9d1f3'
branch_labels = None
depends_on = None

# Frozen copies of casemgmt.cases.identity.name_key and casemgmt.cases.search at this revision
# (migrations do not import the app).
_OLD_SPELLINGS = {"dj": "j", "tj": "c", "oe": "u", "ch": "kh", "sj": "sy", "nj": "ny"}
_OLD_SPELLING = re.compile("|".join(_OLD_SPELLINGS))
_DOUBLED = re.compile(r"(.)\1+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def _name_key(name):
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name or "").lower())
    letters = "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))
    modern = _OLD_SPELLING.sub(lambda m: _OLD_SPELLINGS[m.group(0)], letters)
    return _DOUBLED.sub(r"\1", modern)


def word_keys_text(number, name, nik, description):
    """The search text from this revision on."""
    keys = dict.fromkeys(key for word in _TOKEN.findall(name or "") if (key := _name_key(word)) != word.lower())
    parts = [number, number.replace("-", " "), name, " ".join(k for k in keys if k), nik or "", description or ""]
    return " ".join(p for p in parts if p)


def whole_key_text(number, name, nik, description):
    """The search text before it."""
    parts = [number, number.replace("-", " "), name, _name_key(name), nik or "", description or ""]
    return " ".join(p for p in parts if p)


SQLITE_UPDATE_TRIGGER = (
    "CREATE TRIGGER case_record_fts_update AFTER UPDATE OF search_text, district_code "
    "ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text, district) "
    "VALUES ('delete', old.id, old.search_text, replace(old.district_code, '.', '')); "
    "INSERT INTO case_fts(rowid, search_text, district) "
    "VALUES (new.id, new.search_text, replace(new.district_code, '.', '')); END"
)
SQLITE_FILL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.case_fts_terms USING fts5vocab(main, case_fts, col)",
    "INSERT OR IGNORE INTO search_word (word) SELECT term FROM temp.case_fts_terms WHERE col = 'search_text'",
    "DROP TABLE temp.case_fts_terms",
)
POSTGRESQL_FILL = ("INSERT INTO search_word (word) SELECT DISTINCT lexeme FROM case_record, "
                   "unnest(to_tsvector('simple', search_text)) ON CONFLICT DO NOTHING")
POSTGRESQL_INDEX = ("CREATE INDEX ix_case_record_fts ON case_record "
                    "USING gin (case_search_terms(district_code, search_text))")

BATCH = 5000


def rewrite(connection, build) -> int:
    """Write every case's search text as ``build`` makes it, a batch of cases at a time; the
    number of texts that changed."""
    cases, children, complaints = (sa.table("case_record", sa.column("id"), sa.column("number"),
                                            sa.column("child_id"), sa.column("complaint_id"),
                                            sa.column("search_text")),
                                   sa.table("child", sa.column("id"), sa.column("name"), sa.column("nik")),
                                   sa.table("complaint", sa.column("id"), sa.column("description")))
    read = (sa.select(cases.c.id, cases.c.number, children.c.name, children.c.nik, complaints.c.description,
                      cases.c.search_text)
            .join(children, children.c.id == cases.c.child_id)
            .join(complaints, complaints.c.id == cases.c.complaint_id)
            .where(cases.c.id > sa.bindparam("after")).order_by(cases.c.id).limit(BATCH))
    write = cases.update().where(cases.c.id == sa.bindparam("case_id")).values(
        search_text=sa.bindparam("new_text"))
    after, changed = 0, 0
    while rows := connection.execute(read, {"after": after}).all():
        new = [{"case_id": row[0], "new_text": text} for row in rows
               if (text := build(row[1], row[2], row[3], row[4])) != row[5]]
        if new:
            connection.execute(write, new)
        changed += len(new)
        after = rows[-1][0]
    return changed


def _switch(build):
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS case_record_fts_update")
        rewrite(connection, build)
        op.execute(SQLITE_UPDATE_TRIGGER)
        op.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")
        op.execute("INSERT INTO case_fts(case_fts) VALUES ('optimize')")
        op.execute("DELETE FROM search_word")
        for statement in SQLITE_FILL:
            op.execute(statement)
    else:
        op.execute("DROP INDEX ix_case_record_fts")
        op.execute("ALTER TABLE case_record DISABLE TRIGGER case_record_search_words")
        rewrite(connection, build)
        op.execute("ALTER TABLE case_record ENABLE TRIGGER case_record_search_words")
        op.execute("SET LOCAL maintenance_work_mem = '256MB'")
        op.execute(POSTGRESQL_INDEX)
        op.execute("DELETE FROM search_word")
        op.execute(POSTGRESQL_FILL)


def upgrade():
    _switch(word_keys_text)


def downgrade():
    _switch(whole_key_text)
