"""Open cases counted and listed through indexes: the triage page, the homes and my tasks

Revision ID: d4c7a1e9b2f6
Revises: 8b3f0c5d2e19
Create Date: 2026-11-23 10:00:00

The triage page loaded every new complaint and every overdue case of the district (24 s in the
largest district of the million-case database), the coordinator's home counted them case by case
(1.3 s), a social worker's home loaded all their open cases and counted their waiting referrals
with no index (0.4-2 s), and my tasks loaded every deadline (0.3-1.7 s). These indexes let each
count read one index in order and each list read a page.

SQLite then samples every index for its query planner (dbsetup.refresh_statistics, about a
second at a million cases): without figures it took these indexes, which match more columns, for
the case list's, and sorted a whole district for each page (1 ms -> 1,070 ms).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd4c7a1e9b2f6'
down_revision = '8b3f0c5d2e19'
branch_labels = None
depends_on = None

INDEXES = (
    ("case_record", "ix_case_record_district_open", ["district_code", "status", "stage", "assigned_worker_id", "due_at"]),
    ("case_record", "ix_case_record_district_due", ["district_code", "status", "due_at", "stage"]),
    ("case_record", "ix_case_record_district_queue", ["district_code", "status", "stage", "urgent", "created_at", "id"]),
    ("case_record", "ix_case_record_worker_due", ["assigned_worker_id", "status", "due_at", "stage"]),
    ("referral", "ix_referral_created_by_status", ["created_by_id", "status"]),
)


def upgrade():
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # As dbsetup.refresh_statistics does (a migration keeps its own copy).
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE")


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
