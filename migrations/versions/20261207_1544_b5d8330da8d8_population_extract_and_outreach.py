"""Population: SIAK extracts, the district's extract in use, outreach rows and their history

Revision ID: b5d8330da8d8
Revises: f5c9b2d7a318
Create Date: 2026-12-07 15:44:54

An extract is one import's people (population_person); population_current names the one a
district uses, switched when a new import is complete. Outreach rows are what the rules of
casemgmt/population/rules.py list, one per child per rule; population_count holds the
counts the coverage reads, which stay (naming nobody) when retention removes the people.
"""
import sqlalchemy as sa
from alembic import op

from casemgmt.dbtypes import byte_ordered


# revision identifiers, used by Alembic.
revision = 'b5d8330da8d8'
down_revision = 'f5c9b2d7a318'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('population_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('area_code', byte_ordered(13), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('age_group', sa.String(length=5), nullable=True),
    sa.Column('rule', sa.String(length=40), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('with_certificate', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_count'))
    )
    with op.batch_alter_table('population_count', schema=None) as batch_op:
        batch_op.create_index('ix_population_count_area', ['import_id', 'area_code'], unique=False)

    op.create_table('population_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('nik', sa.String(length=16), nullable=False),
    sa.Column('kk_number', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('age', sa.SmallInteger(), nullable=False),
    sa.Column('relationship', sa.SmallInteger(), nullable=False),
    sa.Column('marital_status', sa.SmallInteger(), nullable=True),
    sa.Column('education', sa.SmallInteger(), nullable=True),
    sa.Column('nik_mother', sa.String(length=16), nullable=True),
    sa.Column('nik_father', sa.String(length=16), nullable=True),
    sa.Column('area_code', byte_ordered(13), nullable=False),
    sa.Column('has_birth_certificate', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_person'))
    )
    with op.batch_alter_table('population_person', schema=None) as batch_op:
        batch_op.create_index('ix_population_person_area', ['import_id', 'area_code'], unique=False)
        batch_op.create_index('ix_population_person_kk', ['import_id', 'kk_number'], unique=False)

    op.create_table('population_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_code', byte_ordered(13), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('extract_date', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_population_import_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_import'))
    )
    with op.batch_alter_table('population_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_import_district_code'), ['district_code'], unique=False)

    op.create_table('population_current',
    sa.Column('district_code', byte_ordered(13), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['population_import.id'], name=op.f('fk_population_current_import_id_population_import')),
    sa.PrimaryKeyConstraint('district_code', name=op.f('pk_population_current'))
    )
    op.create_table('outreach_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('area_code', byte_ordered(13), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('assigned_user_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_user_id'], ['user_account.id'], name=op.f('fk_outreach_item_assigned_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_outreach_item_case_id_case_record')),
    sa.ForeignKeyConstraint(['person_id'], ['population_person.id'], name=op.f('fk_outreach_item_person_id_population_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_item'))
    )
    with op.batch_alter_table('outreach_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_item_assigned_user_id'), ['assigned_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_item_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_outreach_item_list', ['import_id', 'area_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outreach_item_person_id'), ['person_id'], unique=False)

    op.create_table('outreach_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outreach_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outreach_id'], ['outreach_item.id'], name=op.f('fk_outreach_event_outreach_id_outreach_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outreach_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_event'))
    )
    with op.batch_alter_table('outreach_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outreach_event_outreach_id'), ['outreach_id'], unique=False)



def downgrade():
    with op.batch_alter_table('outreach_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_event_outreach_id'))

    op.drop_table('outreach_event')
    with op.batch_alter_table('outreach_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outreach_item_person_id'))
        batch_op.drop_index('ix_outreach_item_list')
        batch_op.drop_index(batch_op.f('ix_outreach_item_case_id'))
        batch_op.drop_index(batch_op.f('ix_outreach_item_assigned_user_id'))

    op.drop_table('outreach_item')
    op.drop_table('population_current')
    with op.batch_alter_table('population_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_import_district_code'))

    op.drop_table('population_import')
    with op.batch_alter_table('population_person', schema=None) as batch_op:
        batch_op.drop_index('ix_population_person_kk')
        batch_op.drop_index('ix_population_person_area')

    op.drop_table('population_person')
    with op.batch_alter_table('population_count', schema=None) as batch_op:
        batch_op.drop_index('ix_population_count_area')

    op.drop_table('population_count')
