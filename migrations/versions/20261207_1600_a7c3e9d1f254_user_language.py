"""Accounts: the language a user reads

Revision ID: a7c3e9d1f254
Revises: a7c3e9d1f285
Create Date: 2026-12-07 16:00:00

Pages after log-in and notifications follow it; empty means the deployment's default.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f254'
down_revision = 'a7c3e9d1f285'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('language')
