"""PostgreSQL search index: each word also behind its district, instead of district_code beside the words (btree_gin)

Revision ID: 9c1e5d7a3f48
Revises: 5a9d3e7c2b16
Create Date: 2026-11-22 19:00:00

With district_code a column of the GIN index (btree_gin), a coordinator's search merged the
district's entry (126,000 cases on the million-case database) with each word's province-wide
list: 7.9 ms for "baso & yusuf" in the index alone. case_search_terms(district_code, search_text)
holds the words and each word again behind its district (" 73.06 baso"); the district's lists are
an eighth as long and the same search reads 0.7 ms. The index is some 2.5 times larger (105 MB
against 42 MB). About a minute on a million cases, during which case_record takes no writes: a
maintenance step. A database that had the btree_gin index keeps the extension. Nothing to do on
SQLite (FTS5).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '9c1e5d7a3f48'
down_revision = '5a9d3e7c2b16'
branch_labels = None
depends_on = None

# As casemgmt.cases.search.POSTGRESQL_TERMS was at this revision.
TERMS = (
    "CREATE OR REPLACE FUNCTION case_search_terms(district text, search_text text) RETURNS tsvector "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT words || array_to_tsvector(ARRAY(SELECT ' ' || district || ' ' || lexeme FROM unnest(words))) "
    "FROM to_tsvector('simple'::regconfig, search_text) AS words $$"
)


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(TERMS)
    op.execute("SET LOCAL maintenance_work_mem = '256MB'")
    op.execute("DROP INDEX ix_case_record_fts")
    op.execute("CREATE INDEX ix_case_record_fts ON case_record USING gin (case_search_terms(district_code, search_text))")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_case_record_fts")
    # The index before e2b84c19f6d5 (which now does nothing).
    op.execute("CREATE INDEX ix_case_record_fts ON case_record USING gin (to_tsvector('simple', search_text))")
    op.execute("DROP FUNCTION case_search_terms(text, text)")
