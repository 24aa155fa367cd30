"""PostgreSQL search index holds the district too (btree_gin), so a district's search reads its own matches

Revision ID: e2b84c19f6d5
Revises: c4f1a7e2d903
Create Date: 2026-11-22 17:30:00

A coordinator's search asked the GIN index for every district's matches, then read each from the
table to keep their own district's (a single first name: 50,000 rows to keep 6,000). With
district_code in the same GIN index the two conditions meet inside it. btree_gin ships with
PostgreSQL (contrib) and is a trusted extension: the database's owner may create it.
Superseded by 9c1e5d7a3f48 the same day, before any release: it now does nothing, so that a new
database neither needs btree_gin nor builds an index only to drop it.
"""


# revision identifiers, used by Alembic.
revision = 'e2b84c19f6d5'
down_revision = 'c4f1a7e2d903'
branch_labels = None
depends_on = None


def upgrade():
    # Superseded by 9c1e5d7a3f48, which replaced this index before any release: nothing to do.
    # (Databases that ran the first form of this step have btree_gin and the (district_code,
    # to_tsvector) index; 9c1e5d7a3f48 drops that index whatever its form, and its downgrade
    # makes the plain index this step found.)
    pass


def downgrade():
    pass
