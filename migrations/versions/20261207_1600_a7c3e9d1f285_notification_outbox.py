"""Notify: the outbox's event keys, links and urgency, its deliveries and preferences

Revision ID: a7c3e9d1f285
Revises: a9d4c2e7f180
Create Date: 2026-12-07 16:00:00

The in-app notification gains a link, an urgent flag and an event key unique per person (the
same event never tells anyone twice); one delivery row per notification and channel; each
user's preferences per channel. Existing notices keep their text under API.md's kind names:
"overdue" and "referral_overdue" become "deadline_overdue".
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'a7c3e9d1f285'
down_revision = 'a9d4c2e7f180'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('event_key', sa.String(length=120), nullable=True))
        batch_op.drop_index('ix_notification_dedupe')
    notification = sa.table('notification', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                            sa.column('case_id', sa.Integer), sa.column('event_key', sa.String),
                            sa.column('link', sa.String))
    op.execute(notification.update().values(
        event_key=sa.literal('legacy:') + sa.cast(notification.c.id, sa.String)))
    op.execute(notification.update().where(notification.c.case_id.isnot(None)).values(
        link=sa.literal('/cases/') + sa.cast(notification.c.case_id, sa.String)))
    op.execute(notification.update().where(notification.c.kind.in_(('overdue', 'referral_overdue')))
               .values(kind='deadline_overdue'))
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.alter_column('event_key', existing_type=sa.String(length=120), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_notification_user_id_event_key'), ['user_id', 'event_key'])
    op.create_table('notification_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('digest', sa.Boolean(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'],
                            name=op.f('fk_notification_delivery_notification_id_notification'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_notification_delivery_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_delivery')),
    sa.UniqueConstraint('notification_id', 'channel', name=op.f('uq_notification_delivery_notification_id_channel'))
    )
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_notification_delivery_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notification_delivery_claim', ['claim_token'], unique=False)
        batch_op.create_index(batch_op.f('ix_notification_delivery_user_id'), ['user_id'], unique=False)
    op.create_table('notification_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=10), nullable=False),
    sa.Column('push', sa.String(length=10), nullable=False),
    sa.Column('sms', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_notification_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preference'))
    )


def downgrade():
    op.drop_table('notification_preference')
    with op.batch_alter_table('notification_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_delivery_user_id'))
        batch_op.drop_index('ix_notification_delivery_claim')
        batch_op.drop_index('ix_notification_delivery_due')
    op.drop_table('notification_delivery')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_notification_user_id_event_key'), type_='unique')
        batch_op.create_index('ix_notification_dedupe', ['user_id', 'case_id', 'kind'], unique=False)
        batch_op.drop_column('event_key')
        batch_op.drop_column('urgent')
        batch_op.drop_column('link')
