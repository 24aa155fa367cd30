"""Reports: the coordinator's home's management indicators, kept for an hour

Revision ID: f5c9b2d7a318
Revises: a7c3e9d14b28
Create Date: 2026-12-07 16:20:00

One row per district: the indicators of its last 90 days and when they were counted.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered

# revision identifiers, used by Alembic.
revision = 'f5c9b2d7a318'
down_revision = 'a7c3e9d14b28'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kpi_snapshot',
    sa.Column('district_code', byte_ordered(16), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('district_code', name=op.f('pk_kpi_snapshot'))
    )


def downgrade():
    op.drop_table('kpi_snapshot')
