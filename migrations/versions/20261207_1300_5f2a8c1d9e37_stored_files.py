"""Files in the database: stored_file and file_chunk, with the attachments and exports on disk read in

Revision ID: 5f2a8c1d9e37
Revises: b7e2f4a9c3d1
Create Date: 2026-12-07 13:00:00

Attachments and finished exports were files under the instance folder of whichever server took
the request; with several app servers a download found them half of the time. They are now rows
(casemgmt.storage): every server and the worker read them, and a backup of the database holds
them. The upgrade reads every attachment and finished export that is on this machine's disk
(CASEMGMT_UPLOAD_PATH, instance/exports) into the tables; the files stay where they were, to be
removed by hand once the upgrade is checked. Run it on the machine that held the files.
"""
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from flask import current_app

# revision identifiers, used by Alembic.
revision = '5f2a8c1d9e37'
down_revision = 'b7e2f4a9c3d1'
branch_labels = None
depends_on = None

CHUNK_BYTES = 256 * 1024


def upgrade():
    stored = op.create_table(
        'stored_file',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('chunks', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_file')),
    )
    chunk = op.create_table(
        'file_chunk',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['key'], ['stored_file.key'], name=op.f('fk_file_chunk_key_stored_file'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('key', 'seq', name=op.f('pk_file_chunk')),
    )
    _read_in_files(stored, chunk)


def _read_in_files(stored, chunk):
    from datetime import datetime, timezone

    conn = op.get_bind()
    config = current_app.config
    upload_root = Path(config.get('UPLOAD_PATH') or Path(current_app.instance_path) / 'attachments')
    export_root = Path(current_app.instance_path) / 'exports'
    now = datetime.now(timezone.utc)
    moved = missing = 0
    # (where the file is, the key it is stored under)
    found = [(upload_root / key, key) for key in conn.execute(sa.text('SELECT storage_key FROM attachment')).scalars()]
    exports = conn.execute(sa.text("SELECT id, storage_key FROM export_job WHERE storage_key IS NOT NULL")).all()
    for job_id, key in exports:
        new_key = f'exports/{key}'
        conn.execute(sa.text('UPDATE export_job SET storage_key = :new WHERE id = :id'), {'new': new_key, 'id': job_id})
        found.append((export_root / key, new_key))
    for path, new_key in found:
        if not path.is_file():
            missing += 1
            continue
        size = n = 0
        conn.execute(stored.insert().values(key=new_key, size=0, chunks=0, created_at=now))
        with open(path, 'rb') as handle:
            while data := handle.read(CHUNK_BYTES):
                conn.execute(chunk.insert().values(key=new_key, seq=n, data=data))
                size += len(data)
                n += 1
        conn.execute(stored.update().where(stored.c.key == new_key).values(size=size, chunks=n))
        moved += 1
    if moved or missing:
        print(f'stored files: {moved} read into the database, {missing} not found on this machine')


def downgrade():
    """Writes the stored files back to disk, where the code of before looks for them."""
    conn = op.get_bind()
    upload_root = Path(current_app.config.get('UPLOAD_PATH') or Path(current_app.instance_path) / 'attachments')
    export_root = Path(current_app.instance_path) / 'exports'
    for key in conn.execute(sa.text('SELECT key FROM stored_file')).scalars():
        path = export_root / key.removeprefix('exports/') if key.startswith('exports/') else upload_root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, 'wb') as handle:
            for data in conn.execute(sa.text('SELECT data FROM file_chunk WHERE key = :key ORDER BY seq'),
                                     {'key': key}).scalars():
                handle.write(data)
    conn.execute(sa.text("UPDATE export_job SET storage_key = SUBSTR(storage_key, 9) "
                         "WHERE storage_key LIKE 'exports/%'"))
    op.drop_table('file_chunk')
    op.drop_table('stored_file')
