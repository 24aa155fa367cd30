"""Referral: drop the three indexes that longer ones begin with

Revision ID: b7e2f4a9c3d1
Revises: d4c7a1e9b2f6
Create Date: 2026-11-23 11:00:00

Migration 6a2d9e4b1c87 gave each part of the referral boxes an index in its order. Three older
indexes are now the first columns of those and serve nothing they do not: to_organisation_id
(in ix_referral_to_status_respond and ix_referral_to_created), from_organisation_id (in
ix_referral_from_status_respond and ix_referral_from_created) and (to_organisation_id, status)
(in ix_referral_to_status_respond). Each was one more index every referral written updates.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'b7e2f4a9c3d1'
down_revision = 'd4c7a1e9b2f6'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_referral_to_organisation_id", ["to_organisation_id"]),
    ("ix_referral_from_organisation_id", ["from_organisation_id"]),
    ("ix_referral_to_status", ["to_organisation_id", "status"]),
)


def upgrade():
    for name, _columns in INDEXES:
        op.drop_index(name, table_name="referral")


def downgrade():
    for name, columns in reversed(INDEXES):
        op.create_index(name, "referral", columns, unique=False)
