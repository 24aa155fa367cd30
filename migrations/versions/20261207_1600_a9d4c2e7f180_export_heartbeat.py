"""Reports: an export's attempts and heartbeat, so a run whose worker died is noticed

Revision ID: a9d4c2e7f180
Revises: e3b1d7a2c905
Create Date: 2026-12-07 16:00:00

A running export whose worker stops beating is queued again once, then failed
(reports.exports.recover_stalled). Exports running at the upgrade count as a first attempt.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a9d4c2e7f180'
down_revision = 'e3b1d7a2c905'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE export_job SET attempts = 1, heartbeat_at = created_at WHERE status = 'running'")


def downgrade():
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('attempts')
