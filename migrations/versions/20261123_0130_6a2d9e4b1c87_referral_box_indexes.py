"""Referral boxes: indexes for each part of a box in its order, inbox and outbox

Revision ID: 6a2d9e4b1c87
Revises: 3e8b1f5c7a20
Create Date: 2026-11-23 01:30:00

A box lists an organisation's unanswered referrals by answer deadline, then the rest newest
first, a page at a time (referrals.services.box). Only the inbox's first part had an index in
that order; a PKSAI's outbox (some 260,000 referrals on the million-case database) was sorted
whole for each page.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '6a2d9e4b1c87'
down_revision = '3e8b1f5c7a20'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_referral_from_status_respond", ["from_organisation_id", "status", "respond_by"]),
    ("ix_referral_to_created", ["to_organisation_id", "created_at"]),
    ("ix_referral_from_created", ["from_organisation_id", "created_at"]),
)


def upgrade():
    for name, columns in INDEXES:
        op.create_index(name, "referral", columns, unique=False)


def downgrade():
    for name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name="referral")
