"""The SQL a test looks at: the statements a block sends, and the plan a database makes for one."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.sql import ClauseElement

from casemgmt.extensions import db


@contextmanager
def sent(record=lambda statement, parameters: (statement, parameters)):
    """What is sent to the database inside the block, in order, listed as it is sent: by default
    each (statement, parameters)."""
    statements: list = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        statements.append(record(statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)


def counting():
    """The SQL statements sent to the database inside the block, listed as they are sent."""
    return sent(lambda statement, _parameters: statement)


def plan(statement, parameters=None, **settings) -> str:
    """The plan the database makes for ``statement`` (SQL with its parameters as sent, or a
    select), one line per step: SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN after
    ``settings`` (enable_seqscan="off": a handful of rows would otherwise be read whole) for the
    rest of the test's transaction."""
    if isinstance(statement, ClauseElement):
        statement, parameters = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True})), None
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters or ())
        return "\n".join(row[-1] for row in rows)
    for name, value in settings.items():
        connection.exec_driver_sql(f"SET LOCAL {name} = {value}")
    return "\n".join(row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters or {}))
