"""Reports: the management indicators counted in the indicator buckets

Revision ID: c3e7a1f9d254
Revises: c3f7a1e9d205
Create Date: 2026-12-07 19:00:00

The tally (reports.tally, reports.kpi_tally) keeps new sections in indicator_bucket: no table
changes, but a database holding cases must be counted again for them, so its build mark goes
(the buckets are rebuilt by `flask reports rebuild`, or by the background worker at the first
indicator request, as when the buckets were added). The timeline gains an index on its time:
the open cases whose latest entry lies in a given day are read through it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3e7a1f9d254'
down_revision = 'c3f7a1e9d205'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_at', ['at'], unique=False)
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM case_record")).scalar() != 0:
        bind.execute(sa.text("DELETE FROM indicator_build"))


def downgrade():
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_at')
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM indicator_bucket WHERE section LIKE 'kpi%'"))
    bind.execute(sa.text("DELETE FROM indicator_dirty WHERE section LIKE 'kpi%'"))
