"""Search text: a name's word holding an apostrophe or a hyphen also keyed whole ("Nur'aini": "nuraini")

Revision ID: 8b3f0c5d2e19
Revises: 6a2d9e4b1c87
Create Date: 2026-11-23 02:00:00

3e8b1f5c7a20 keyed each run of letters of the child's name, so "Nur'aini Ma'ruf" was held as
"nur", "aini", "ma", "ruf": typed as people type it, "nuraini" or "maruf", it was found no more
(the whole-name key before it had held "nurainimaruf"). Each space-parted word is now keyed too.
Only the texts that change are written (names with such words), through the index's triggers;
on SQLite the word list then takes the index's new words (PostgreSQL's trigger adds them).
On the million-case databases, whose generated names hold no such word: 25 s on SQLite, 33 s
on PostgreSQL, reading every case.
"""
import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '8b3f0c5d2e19'
down_revision = '6a2d9e4b1c87'
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


def _text(number, name, keys, nik, description):
    parts = [number, number.replace("-", " "), name, " ".join(k for k in keys if k), nik or "", description or ""]
    return " ".join(p for p in parts if p)


def joined_keys_text(number, name, nik, description):
    """The search text from this revision on."""
    tokens = _TOKEN.findall(name or "")
    held = {token.lower() for token in tokens}
    keys = dict.fromkeys(key for word in (name or "").split() + tokens if (key := _name_key(word)) not in held)
    return _text(number, name, keys, nik, description)


def token_keys_text(number, name, nik, description):
    """The search text of 3e8b1f5c7a20."""
    keys = dict.fromkeys(key for word in _TOKEN.findall(name or "") if (key := _name_key(word)) != word.lower())
    return _text(number, name, keys, nik, description)


SQLITE_FILL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.case_fts_terms USING fts5vocab(main, case_fts, col)",
    "INSERT OR IGNORE INTO search_word (word) SELECT term FROM temp.case_fts_terms WHERE col = 'search_text'",
    "DROP TABLE temp.case_fts_terms",
)
BATCH = 5000


def rewrite(connection, build) -> int:
    """Write each case's search text as ``build`` makes it where it differs, a batch of cases at a
    time; the number written."""
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
    if rewrite(connection, build) and connection.dialect.name == "sqlite":
        for statement in SQLITE_FILL:
            op.execute(statement)


def upgrade():
    _switch(joined_keys_text)


def downgrade():
    _switch(token_keys_text)
