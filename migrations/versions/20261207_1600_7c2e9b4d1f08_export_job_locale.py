"""Reports: the language an export is written in

Revision ID: 7c2e9b4d1f08
Revises: d8e2a4c6b071
Create Date: 2026-12-07 16:00:00

A large export is written by the background worker, which has no request to read the user's
language from: the job keeps the language it was asked for in.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7c2e9b4d1f08'
down_revision = 'd8e2a4c6b071'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('export_job') as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('export_job') as batch_op:
        batch_op.drop_column('locale')
