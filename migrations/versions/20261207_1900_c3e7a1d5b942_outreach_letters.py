"""Population: birth-certificate letters to Dukcapil from outreach rows

Revision ID: c3e7a1d5b942
Revises: b5d8330da8d8
Create Date: 2026-12-07 19:00:00

outreach_letter: one numbered letter per outreach row of rule no_birth_certificate, with the
child's identity as printed; outreach_letter_sequence numbers them per district and year. The
extract's people gain the letter's fields (place of birth, parents' names, address), filled
only for children under 18 without a birth certificate.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered

# revision identifiers, used by Alembic.
revision = 'c3e7a1d5b942'
down_revision = 'b5d8330da8d8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('population_person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_place', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('mother_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('father_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('address', sa.String(length=300), nullable=True))

    op.create_table('outreach_letter_sequence',
    sa.Column('district_code', byte_ordered(13), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('district_code', 'year', name=op.f('pk_outreach_letter_sequence'))
    )
    op.create_table('outreach_letter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outreach_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('district_code', byte_ordered(13), nullable=False),
    sa.Column('from_organisation_id', sa.Integer(), nullable=False),
    sa.Column('to_organisation_id', sa.Integer(), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_name', sa.String(length=200), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('child', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['outreach_id'], ['outreach_item.id'], name=op.f('fk_outreach_letter_outreach_id_outreach_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_organisation_id'], ['organisation.id'], name=op.f('fk_outreach_letter_from_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['to_organisation_id'], ['organisation.id'], name=op.f('fk_outreach_letter_to_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_outreach_letter_issued_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_letter')),
    sa.UniqueConstraint('number', name=op.f('uq_outreach_letter_number')),
    sa.UniqueConstraint('outreach_id', name=op.f('uq_outreach_letter_outreach_id'))
    )
    with op.batch_alter_table('outreach_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_letter_to_organisation_id'), ['to_organisation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('outreach_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_letter_to_organisation_id'))
    op.drop_table('outreach_letter')
    op.drop_table('outreach_letter_sequence')
    with op.batch_alter_table('population_person', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('father_name')
        batch_op.drop_column('mother_name')
        batch_op.drop_column('birth_place')
