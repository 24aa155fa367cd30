"""Directory: what a district sets for itself

Revision ID: e3b1d7a2c905
Revises: c5e1a7b3d940
Create Date: 2026-12-07 15:40:00

The time of the daily notification digest, the caseload threshold and the retention of
population extracts, one row per district that changed a default.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered

# revision identifiers, used by Alembic.
revision = 'e3b1d7a2c905'
down_revision = 'c5e1a7b3d940'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('district_settings',
    sa.Column('area_code', byte_ordered(13), nullable=False),
    sa.Column('digest_time', sa.Time(), nullable=False),
    sa.Column('caseload_threshold', sa.Integer(), nullable=False),
    sa.Column('population_retention_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_district_settings_area_code_area')),
    sa.PrimaryKeyConstraint('area_code', name=op.f('pk_district_settings'))
    )


def downgrade():
    op.drop_table('district_settings')
