"""Cases: households (Kartu Keluarga) and each child's place on one

Revision ID: d8e2a4c6b071
Revises: b8d4f0e2a365
Create Date: 2026-12-07 16:00:00

Siblings of separate complaints meet in one household, keyed by the KK number; a child belongs
to at most one, with its relationship to the head (SIAK STAT_HBKEL). Existing children have none.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered

# revision identifiers, used by Alembic.
revision = 'd8e2a4c6b071'
down_revision = 'b8d4f0e2a365'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kk_number', sa.String(length=16), nullable=False),
    sa.Column('area_code', byte_ordered(13), nullable=False),
    sa.Column('head_name', sa.String(length=120), nullable=True),
    sa.Column('head_sex', sa.String(length=1), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], name=op.f('fk_household_area_code_area')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household')),
    sa.UniqueConstraint('kk_number', name=op.f('uq_household_kk_number'))
    )
    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_area_code'), ['area_code'], unique=False)

    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('relationship_to_head', sa.String(length=2), nullable=True))
        batch_op.create_index(batch_op.f('ix_child_household_id'), ['household_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_child_household_id_household'), 'household',
                                    ['household_id'], ['id'])


def downgrade():
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_child_household_id_household'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_child_household_id'))
        batch_op.drop_column('relationship_to_head')
        batch_op.drop_column('household_id')

    with op.batch_alter_table('household', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_area_code'))

    op.drop_table('household')
