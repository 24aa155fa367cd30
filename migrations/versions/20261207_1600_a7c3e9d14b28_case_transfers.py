"""Transfers: a case handed from one district's PKSAI to another's

Revision ID: a7c3e9d14b28
Revises: 4a8d2f6c1e37
Create Date: 2026-12-07 16:00:00

One row per request; a partial unique index allows one open request per case, so two
requests sent at once cannot both be made.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered

# revision identifiers, used by Alembic.
revision = 'a7c3e9d14b28'
down_revision = '4a8d2f6c1e37'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('case_transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_organisation_id', sa.Integer(), nullable=False),
    sa.Column('from_district_code', byte_ordered(13), nullable=False),
    sa.Column('to_organisation_id', sa.Integer(), nullable=False),
    sa.Column('to_district_code', byte_ordered(13), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('assigned_worker_id', sa.Integer(), nullable=True),
    sa.Column('transferred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_transfer_case_id_case_record'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_organisation_id'], ['organisation.id'],
                            name=op.f('fk_case_transfer_from_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['to_organisation_id'], ['organisation.id'],
                            name=op.f('fk_case_transfer_to_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['from_district_code'], ['area.code'], name=op.f('fk_case_transfer_from_district_code_area')),
    sa.ForeignKeyConstraint(['to_district_code'], ['area.code'], name=op.f('fk_case_transfer_to_district_code_area')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                            name=op.f('fk_case_transfer_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                            name=op.f('fk_case_transfer_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['assigned_worker_id'], ['user_account.id'],
                            name=op.f('fk_case_transfer_assigned_worker_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_transfer'))
    )
    op.create_index(op.f('ix_case_transfer_case_id'), 'case_transfer', ['case_id'], unique=False)
    op.create_index('uq_case_transfer_open', 'case_transfer', ['case_id'], unique=True,
                    sqlite_where=sa.text("status = 'requested'"), postgresql_where=sa.text("status = 'requested'"))
    op.create_index('ix_case_transfer_to_status', 'case_transfer', ['to_organisation_id', 'status'], unique=False)
    op.create_index('ix_case_transfer_from_district', 'case_transfer', ['from_district_code', 'status', 'case_id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_case_transfer_from_district', table_name='case_transfer')
    op.drop_index('ix_case_transfer_to_status', table_name='case_transfer')
    op.drop_index('uq_case_transfer_open', table_name='case_transfer')
    op.drop_index(op.f('ix_case_transfer_case_id'), table_name='case_transfer')
    op.drop_table('case_transfer')
