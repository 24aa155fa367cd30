"""SQLite search index: each case's district in a column of the FTS5 index

Revision ID: b7e4a2c9d1f3
Revises: 9c1e5d7a3f48
Create Date: 2026-11-22 21:00:00

case_fts indexed search_text only, so a coordinator's search had FTS5 hand over the province's
matches, newest first, and read each one's case row to keep their district's: some 600 rows for
a page of 26 of a common name, from disk when cold. The index now reads case_fts_source, a view
giving each case's district ("7306") beside its search text, and a district's search asks for
both. Rebuilding the index took 11 s on the million-case database. Nothing to do on PostgreSQL,
whose index holds each word behind its district already (9c1e5d7a3f48).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e4a2c9d1f3'
down_revision = '9c1e5d7a3f48'
branch_labels = None
depends_on = None

TRIGGERS = ("case_record_fts_insert", "case_record_fts_delete", "case_record_fts_update")

# As casemgmt.cases.search.SQLITE_DDL was at this revision.
UPGRADE = (
    "CREATE VIEW case_fts_source AS "
    "SELECT id, search_text, replace(district_code, '.', '') AS district FROM case_record",
    "CREATE VIRTUAL TABLE case_fts USING fts5(search_text, district, "
    "content='case_fts_source', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER case_record_fts_insert AFTER INSERT ON case_record BEGIN "
    "INSERT INTO case_fts(rowid, search_text, district) "
    "VALUES (new.id, new.search_text, replace(new.district_code, '.', '')); END",
    "CREATE TRIGGER case_record_fts_delete AFTER DELETE ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text, district) "
    "VALUES ('delete', old.id, old.search_text, replace(old.district_code, '.', '')); END",
    "CREATE TRIGGER case_record_fts_update AFTER UPDATE OF search_text, district_code "
    "ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text, district) "
    "VALUES ('delete', old.id, old.search_text, replace(old.district_code, '.', '')); "
    "INSERT INTO case_fts(rowid, search_text, district) "
    "VALUES (new.id, new.search_text, replace(new.district_code, '.', '')); END",
)

# As it was before (068bb50344f2).
DOWNGRADE = (
    "CREATE VIRTUAL TABLE case_fts USING fts5("
    "search_text, content='case_record', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER case_record_fts_insert AFTER INSERT ON case_record BEGIN "
    "INSERT INTO case_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER case_record_fts_delete AFTER DELETE ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER case_record_fts_update AFTER UPDATE OF search_text ON case_record BEGIN "
    "INSERT INTO case_fts(case_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO case_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
)


def _drop_index():
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS case_fts")


def upgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_index()
    for statement in UPGRADE:
        op.execute(statement)
    op.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_index()
    op.execute("DROP VIEW IF EXISTS case_fts_source")
    for statement in DOWNGRADE:
        op.execute(statement)
    op.execute("INSERT INTO case_fts(case_fts) VALUES ('rebuild')")
