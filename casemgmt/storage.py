"""Files (attachments, finished exports) kept in the database, in chunks, so that every app server
and the worker read them through the connection they already have.

Why the database and not a shared directory: it is the one thing every server already shares,
so nothing else (NFS, object storage) has to be mounted, kept up and backed up beside it; a
file is written in the same transaction as the row that names it, so neither is ever left
without the other; and the backup of the database (``flask backup``, ``pg_dump``) holds the
files of the same instant. Files are stored as rows of CHUNK_BYTES (SQLite blobs, PostgreSQL
bytea), written and read a chunk at a time, so neither an upload nor a download of a large
export holds the whole file in memory.
"""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from sqlalchemy import ForeignKey, LargeBinary, String, delete, func, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from casemgmt.dbtypes import UTCDateTime, utcnow
from casemgmt.extensions import db

CHUNK_BYTES = 256 * 1024


class StoredFile(db.Model):
    """One file, named by a key its owner keeps (Attachment.storage_key, ExportJob.storage_key)."""
    __tablename__ = "stored_file"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    size: Mapped[int] = mapped_column(nullable=False)
    chunks: Mapped[int] = mapped_column(nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class FileChunk(db.Model):
    __tablename__ = "file_chunk"

    key: Mapped[str] = mapped_column(ForeignKey("stored_file.key", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class MissingFile(LookupError):
    """No stored file has this key (never written, or deleted)."""


def save(key: str, source) -> StoredFile:
    """Store bytes, or a binary file object read to its end, under ``key`` in the session's
    transaction (flushed, not committed)."""
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    row = StoredFile(key=key, size=0, chunks=0)
    db.session.add(row)
    db.session.flush()
    while chunk := stream.read(CHUNK_BYTES):
        db.session.execute(insert(FileChunk), [{"key": key, "seq": row.chunks, "data": chunk}])
        row.size += len(chunk)
        row.chunks += 1
    db.session.flush()
    return row


def save_path(key: str, path: Path) -> StoredFile:
    with open(path, "rb") as handle:
        return save(key, handle)


def delete_file(key: str) -> None:
    """Remove a stored file in the session's transaction (its chunks first: SQLite's foreign
    keys may be off, so the cascade is not counted on)."""
    db.session.execute(delete(FileChunk).where(FileChunk.key == key))
    db.session.execute(delete(StoredFile).where(StoredFile.key == key))


def exists(key: str) -> bool:
    return db.session.get(StoredFile, key) is not None


def read_bytes(key: str) -> bytes:
    return open_file(key).read()


class StoredReader(io.RawIOBase):
    """A stored file read a chunk at a time, each chunk by its own short query, so a slow
    download holds no connection or transaction between reads."""

    def __init__(self, engine, key: str, size: int, chunks: int):
        super().__init__()
        self.engine, self.key, self.size, self.chunks = engine, key, size, chunks
        self._seq = 0
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        with self.engine.connect() as conn:
            data = conn.execute(select(FileChunk.data).where(FileChunk.key == self.key,
                                                             FileChunk.seq == self._seq)).scalar()
        if data is None:
            raise MissingFile(self.key)  # deleted while it was read
        self._seq += 1
        return bytes(data)

    def readinto(self, buffer) -> int:
        if not self._buffer and self._seq < self.chunks:
            self._buffer = self._next_chunk()
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def open_file(key: str) -> StoredReader:
    """A readable file object of the stored file; MissingFile when there is none."""
    row = db.session.get(StoredFile, key)
    if row is None:
        raise MissingFile(key)
    return StoredReader(db.engine, key, row.size, row.chunks)


def send(key: str, *, mimetype: str, download_name: str):
    """The stored file as a download (send_file's headers, with its length), streamed."""
    from flask import send_file

    reader = open_file(key)
    response = send_file(io.BufferedReader(reader, CHUNK_BYTES), mimetype=mimetype, as_attachment=True,
                         download_name=download_name, max_age=0)
    response.content_length = reader.size
    return response


def total_bytes() -> int:
    return db.session.scalar(select(func.coalesce(func.sum(StoredFile.size), 0)))
