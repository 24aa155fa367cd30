"""Accounts: the time step of the last one-time code taken

Revision ID: 7d2b9e4f6a13
Revises: 4f6a8c2e1b97
Create Date: 2026-12-07 13:10:00

A one-time code is good once per user: a code of that step or an earlier one is refused.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '7d2b9e4f6a13'
down_revision = '4f6a8c2e1b97'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
