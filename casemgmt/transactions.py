"""One unit of work per request: operations flush, the request commits once at its end.

A view that returns normally has its changes committed after it returns, inside Flask's
dispatch, so a database that refuses the commit (busy, a unique key another request took) is
answered by the error handlers of ``errors.py`` like any other failure. A view that shows a
refused operation calls ``forms.refused``, which rolls the operation back first; every error
handler rolls back too. CLI commands, sweeps and background jobs commit their own batches
with ``commit``.

What must only happen once the change is saved (queueing a background job that reads it,
removing a file whose row is gone) is registered with ``after_commit`` and runs after the
commit; a rollback drops it.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from casemgmt.extensions import db

_AFTER_COMMIT = "casemgmt_after_commit"
_ON_ROLLBACK = "casemgmt_on_rollback"


class App(Flask):
    def preprocess_request(self):
        # A before_request hook that answers itself (the idle time-out ending a session and
        # sending the user to log in) has its changes committed like a view's.
        response = super().preprocess_request()
        if response is not None:
            commit()
        return response

    def dispatch_request(self):
        response = super().dispatch_request()
        commit()
        return response


def after_commit(callback: Callable[[], object]) -> None:
    """Run ``callback`` once the current transaction is committed by ``commit``; never if it
    is rolled back."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def on_rollback(callback: Callable[[], object]) -> None:
    """Run ``callback`` if the current transaction is rolled back (a file written for a row
    that will never exist)."""
    db.session.info.setdefault(_ON_ROLLBACK, []).append(callback)


def commit() -> None:
    """Commit the unit of work, then run what waited for it."""
    db.session.commit()
    callbacks = db.session.info.pop(_AFTER_COMMIT, [])
    for callback in callbacks:
        callback()
    if callbacks:  # what the callbacks wrote (a small export's file and status) is saved too
        commit()


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    session.info.pop(_ON_ROLLBACK, None)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint: the outer transaction goes on
        return
    session.info.pop(_AFTER_COMMIT, None)
    for callback in session.info.pop(_ON_ROLLBACK, []):
        callback()
