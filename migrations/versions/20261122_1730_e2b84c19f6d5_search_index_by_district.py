"""PostgreSQL search index holds the district too (btree_gin), so a district's search reads its own matches

Revision ID: e2b84c19f6d5
Revises: c4f1a7e2d903
Create Date: 2026-11-22 17:30:00

A coordinator's search asked the GIN index for every district's matches, then read each from the
table to keep their own district's (a single first name: 50,000 rows to keep 6,000). With
district_code in the same GIN index the two conditions meet inside it. btree_gin ships with
PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.
About 25 s on a million cases, during which case_record takes no writes: a maintenance step.
Nothing to do on SQLite (FTS5).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e2b84c19f6d5'
down_revision = 'c4f1a7e2d903'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute("DROP INDEX ix_case_record_fts")
    op.execute("CREATE INDEX ix_case_record_fts ON case_record "
               "USING gin (district_code, to_tsvector('simple', search_text))")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_case_record_fts")
    op.execute("CREATE INDEX ix_case_record_fts ON case_record USING gin (to_tsvector('simple', search_text))")
    # btree_gin stays: the database may have had it before, for other uses.
