"""a district's cases in id order (district_code, id), for a one-word search that reads the newest first

Revision ID: 5a9d3e7c2b16
Revises: e2b84c19f6d5
Create Date: 2026-11-22 18:00:00

PostgreSQL only: there it replaces the index on district_code alone, which served the same
lookups. A SQLite index already holds the rowid after its columns; made there, SQLite's planner
(without statistics for the new index) chose it for the case list and sorted the whole district.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5a9d3e7c2b16'
down_revision = 'e2b84c19f6d5'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index('ix_case_record_district_id', 'case_record', ['district_code', 'id'], unique=False)
    op.drop_index('ix_case_record_district_code', table_name='case_record')


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index('ix_case_record_district_code', 'case_record', ['district_code'], unique=False)
    op.drop_index('ix_case_record_district_id', table_name='case_record')
