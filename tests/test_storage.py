"""Files in the database (casemgmt.storage): chunked, streamed, removed with their rows, and in
the backup: a database restored from `flask backup` (SQLite) or pg_dump (PostgreSQL) serves the
attachments and exports of the instant it was taken."""
from __future__ import annotations

import glob
import io
import os
import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from casemgmt import create_app, storage
from casemgmt.cases.models import Attachment
from casemgmt.extensions import db
from casemgmt.reports.models import ExportJob
from casemgmt.storage import CHUNK_BYTES, FileChunk, MissingFile, StoredFile
from tests.conftest import PG_URL, Web
from tests.factories import make_case

PDF = b"%PDF-1.4\n" + bytes(range(256)) * (CHUNK_BYTES // 128) + b"\n%%EOF\n"  # a little over two chunks


def test_a_file_is_kept_in_chunks_and_read_back_whole(app):
    data = os.urandom(2 * CHUNK_BYTES + 17)
    row = storage.save("t/one.bin", io.BytesIO(data))
    db.session.commit()
    assert (row.size, row.chunks) == (len(data), 3)
    assert db.session.scalar(select(func.max(func.length(FileChunk.data)))) == CHUNK_BYTES
    reader = storage.open_file("t/one.bin")
    assert reader.read(10) == data[:10]
    assert reader.read() == data[10:]
    storage.delete_file("t/one.bin")
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(FileChunk)) == 0
    with pytest.raises(MissingFile):
        storage.open_file("t/one.bin")


def test_a_stored_file_is_part_of_the_transaction(app, users):
    """A file written in a transaction that is rolled back is gone with it; what was committed stays."""
    case = make_case(users["village_worker"])
    storage.save("t/orphan.pdf", PDF)
    db.session.rollback()
    assert not storage.exists("t/orphan.pdf")
    assert db.session.get(type(case), case.id) is not None


def _upload_and_export(web, case):
    response = web.post(f"/cases/{case.id}/attachments", {"file": (io.BytesIO(PDF), "surat.pdf")},
                        content_type="multipart/form-data")
    assert response.status_code == 302
    download = web.post("/exports", {"format": "csv"}).headers["Location"]
    export = web.get(download)
    assert export.status_code == 200 and "Anak Cadangan" in export.data.decode("utf-8-sig")
    attachment = db.session.scalar(select(Attachment))
    return f"/cases/{case.id}/attachments/{attachment.id}", download, export.data


def test_a_download_is_streamed_with_its_length(app, web, users):
    case = make_case(users["village_worker"], name="Anak Cadangan")
    web.login("koordinator")
    attachment_url, _download, _data = _upload_and_export(web, case)
    response = web.get(attachment_url)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Length"] == str(len(PDF))
    assert response.headers["Content-Disposition"] == "attachment; filename=surat.pdf"
    assert response.data == PDF


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1]
    return found


def _restore_postgresql(tmp_path) -> str:
    """pg_dump of the test database, pg_restore into a new one; its URL."""
    url = make_url(PG_URL)
    dump = tmp_path / "casemgmt.dump"
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run([_pg_tool("pg_dump"), "--format=custom", f"--file={dump}", libpq], check=True)
    admin = create_engine(url.set(drivername="postgresql+psycopg", database="postgres"),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS casemgmt_restored"))
        conn.execute(text("CREATE DATABASE casemgmt_restored"))
    admin.dispose()
    restored = url.set(database="casemgmt_restored")
    subprocess.run([_pg_tool("pg_restore"), "--no-owner",
                    f"--dbname={restored.set(drivername='postgresql').render_as_string(hide_password=False)}",
                    str(dump)], check=True)
    return restored.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def test_a_restored_backup_serves_the_attachments_and_exports(app, web, users, runner, tmp_path):
    case = make_case(users["village_worker"], name="Anak Cadangan")
    web.login("koordinator")
    attachment_url, download_url, exported = _upload_and_export(web, case)
    if PG_URL:
        restored_url = _restore_postgresql(tmp_path)
    else:
        backup = tmp_path / "casemgmt-backup.db"
        result = runner.invoke(args=["backup", str(backup)])
        assert result.exit_code == 0, result.output
        restored_url = f"sqlite:///{backup}"
    # After the backup: the originals go, so only the backup can answer.
    with db.engine.begin() as conn:
        conn.execute(FileChunk.__table__.delete())
    try:
        restored = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": restored_url})
        other = Web(restored)
        other.login("koordinator")
        response = other.get(attachment_url)
        assert response.status_code == 200 and response.data == PDF
        response = other.get(download_url)
        assert response.status_code == 200 and response.data == exported
        with restored.app_context():
            assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 2
            assert db.session.scalar(select(ExportJob.storage_key)).startswith("exports/")
            db.session.remove()
            db.engine.dispose()
    finally:
        if PG_URL:
            admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg", database="postgres"),
                                  isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS casemgmt_restored WITH (FORCE)"))
            admin.dispose()
