"""search_word: the words the search index holds, so a typed prefix is searched as exact words

Revision ID: 7d3e0c1a9b42
Revises: 5b9c6f2e70cb
Create Date: 2026-11-22 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d3e0c1a9b42'
down_revision = '5b9c6f2e70cb'
branch_labels = None
depends_on = None

# Frozen copies of casemgmt/cases/search.py at this revision (migrations do not import the app).
POSTGRESQL_DDL = (
    "CREATE OR REPLACE FUNCTION case_record_search_words() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO search_word (word) SELECT lexeme FROM unnest(to_tsvector('simple', NEW.search_text)) "
    "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    "CREATE TRIGGER case_record_search_words AFTER INSERT OR UPDATE OF search_text ON case_record "
    "FOR EACH ROW EXECUTE FUNCTION case_record_search_words()",
)
POSTGRESQL_FILL = ("INSERT INTO search_word (word) SELECT DISTINCT lexeme FROM case_record, "
                   "unnest(to_tsvector('simple', search_text)) ON CONFLICT DO NOTHING")
SQLITE_FILL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.case_fts_terms USING fts5vocab(main, case_fts, row)",
    "INSERT OR IGNORE INTO search_word (word) SELECT term FROM temp.case_fts_terms",
    "DROP TABLE temp.case_fts_terms",
)


def upgrade():
    op.create_table('search_word',
    sa.Column('word', sa.Text().with_variant(sa.Text(collation='C'), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('word', name=op.f('pk_search_word'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_DDL:
            op.execute(statement)
        op.execute(POSTGRESQL_FILL)
    else:
        for statement in SQLITE_FILL:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_record_search_words ON case_record")
        op.execute("DROP FUNCTION IF EXISTS case_record_search_words()")
    op.drop_table('search_word')
