"""Cases: an index of when each district's cases were last saved

Revision ID: c3f7a1e9d205
Revises: c3e7a1d5b942
Create Date: 2026-12-07 19:00:00

The counts a coordinator's home and triage page keep for a minute are dropped when a case of
the district was saved since (workflow.kept_counts): one probe of this index.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'c3f7a1e9d205'
down_revision = 'c3e7a1d5b942'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_case_record_district_updated', 'case_record', ['district_code', 'updated_at'], unique=False)


def downgrade():
    op.drop_index('ix_case_record_district_updated', table_name='case_record')
