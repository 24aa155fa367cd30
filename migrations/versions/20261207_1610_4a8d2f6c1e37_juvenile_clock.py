"""Workflow: the juvenile-justice clocks of a case

Revision ID: 4a8d2f6c1e37
Revises: 7c2e9b4d1f08
Create Date: 2026-12-07 16:10:00

PP 65/2015's clocks for cases with an ABH concern, each started by an investigator's request
and stopped by the step it waits for.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered

# revision identifiers, used by Alembic.
revision = '4a8d2f6c1e37'
down_revision = '7c2e9b4d1f08'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('juvenile_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('clock', sa.String(length=30), nullable=False),
    sa.Column('district_code', byte_ordered(13), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('stopped_by_id', sa.Integer(), nullable=True),
    sa.Column('overdue_notified_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_juvenile_clock_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user_account.id'],
                            name=op.f('fk_juvenile_clock_started_by_id_user_account')),
    sa.ForeignKeyConstraint(['stopped_by_id'], ['user_account.id'],
                            name=op.f('fk_juvenile_clock_stopped_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_juvenile_clock'))
    )
    op.create_index(op.f('ix_juvenile_clock_case_id'), 'juvenile_clock', ['case_id'], unique=False)
    op.create_index('ix_juvenile_clock_running', 'juvenile_clock', ['stopped_at', 'due_at'], unique=False)
    op.create_index('ix_juvenile_clock_district', 'juvenile_clock', ['district_code', 'started_at'], unique=False)


def downgrade():
    op.drop_index('ix_juvenile_clock_district', table_name='juvenile_clock')
    op.drop_index('ix_juvenile_clock_running', table_name='juvenile_clock')
    op.drop_index(op.f('ix_juvenile_clock_case_id'), table_name='juvenile_clock')
    op.drop_table('juvenile_clock')
