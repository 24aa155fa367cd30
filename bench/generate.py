"""Synthetic South Sulawesi data for benchmarks, reproducible from a seed.

    python bench/generate.py --cases 1000000 --seed 7 [--database-url URL]

Cases spread over the 24 kabupaten/kota with realistic stage, risk, concern and age mixes,
their histories, referrals (two per case on average), notes, conferences and 4,992 users (208
per kabupaten/kota). Rows go in with bulk inserts on SQLite and COPY on PostgreSQL, around the
models: the search triggers are dropped (SQLite) or disabled (PostgreSQL) meanwhile, and the
search index (SQLite), search_word (both), the id sequences, secondary indexes and foreign keys
of the filled tables (PostgreSQL) and the indicator buckets are made once at the end. A run that
stops midway leaves a half-filled database without them (on PostgreSQL without those indexes
and keys, though at the migrations' head): generate again into a new one.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = [("report", 5), ("assessment", 10), ("intervention_plan", 8), ("intervention", 20), ("monitoring", 17),
          ("termination", 40)]
RISKS = [("high", 20), ("medium", 50), ("low", 30)]
CONCERNS = [("out_of_school", 18), ("no_birth_certificate", 16), ("neglect", 12), ("physical_violence", 9),
            ("child_marriage", 7), ("child_labour", 7), ("sexual_violence", 6), ("psychological_violence", 5),
            ("basic_needs", 5), ("abh_victim", 4), ("abh_offender", 3), ("street_child", 3), ("no_caregiver", 2),
            ("disability", 2), ("economic_exploitation", 1)]
SERVICES = ["birth_certificate", "education", "health", "psychosocial", "legal_aid", "family_support",
            "social_assistance"]
FIRST = ["Nurul", "Andi", "Sitti", "Muhammad", "Rahmat", "Ayu", "Baso", "Hasna", "Fitri", "Aditya", "Dewi", "Rizky",
         "Putri", "Ilham", "Nur", "Fajar", "Wahyu", "Indah", "Aco", "Becce"]
LAST = ["Aisyah", "Rahmawati", "Hidayat", "Saputra", "Amalia", "Ramadhan", "Pratiwi", "Syahrir", "Daeng", "Halim",
        "Kurniawan", "Sari", "Maulana", "Nurdin", "Yusuf"]
WORDS = ("anak tidak bersekolah sejak kelas empat belum memiliki akta kelahiran orang tua bekerja di luar daerah "
         "sering ditinggal sendiri dilaporkan oleh tetangga kepada puskesos desa").split()
SPAN_MINUTES = 3 * 365 * 24 * 60
# The span a case's history is drawn over: five transitions of up to 19 days each, then
# referrals sent, answered and completed within 34 more days (some 130 in all). Cases received
# more recently than this have it shortened in proportion, so none of it lies after today.
HISTORY = timedelta(days=200)
STAGE_ORDER = ["report", "assessment", "intervention_plan", "intervention", "monitoring", "termination"]
TRANSITION = {"assessment": "accept", "intervention_plan": "submit_assessment", "intervention": "submit_plan",
              "monitoring": "start_monitoring", "termination": "terminate"}


def pick(rng, weighted):
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def chunks(rows, size=20000):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def reset_sequences(db):
    """PostgreSQL: the bulk inserts gave ids themselves; move each id sequence past them."""
    from sqlalchemy import text

    for table in db.metadata.sorted_tables:
        if "id" in table.c and table.c.id.autoincrement and str(table.c.id.type) == "INTEGER":
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                    f"GREATEST((SELECT MAX(id) FROM {table.name}), 1))"))


# PostgreSQL: the tables the bulk load fills, whose indexes and foreign keys are made after it.
# Kept during COPY they cost a lookup or an insert per row each (the search index's GIN entries,
# five million timeline events checked against case_record); made once over the full tables
# they are sorted in bulk and checked with one join each.
LOADED = ("complaint", "child", "case_record", "case_concern", "case_event", "referral")


def set_aside_indexes(conn) -> list[str]:
    """PostgreSQL: drop the indexes (other than primary keys and unique constraints) and foreign
    keys of the LOADED tables and those referring to them; return the statements that make them
    again, foreign keys last."""
    from sqlalchemy import text

    tables = {"tables": list(LOADED)}
    indexes = conn.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname AND c.connamespace = current_schema()::regnamespace)"), tables).all()
    keys = conn.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace "
        "AND (c.conrelid::regclass::text = ANY(:tables) OR c.confrelid::regclass::text = ANY(:tables))"),
        tables).all()
    for table, name, _ in keys:
        conn.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
    for name, _ in indexes:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return ([definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in keys])


def restore_indexes(conn, statements: list[str]) -> None:
    from sqlalchemy import text

    conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for statement in statements:
        conn.execute(text(statement))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'instance' / 'bench.db'}")
    args = parser.parse_args()
    os.environ["CASEMGMT_INSTANCE_PATH"] = str(ROOT / "bench" / "instance")
    os.environ["CASEMGMT_DATABASE_URL"] = args.database_url
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url[len("sqlite:///"):]).unlink(missing_ok=True)

    from flask_migrate import upgrade
    from sqlalchemy import text

    from casemgmt import create_app
    from casemgmt.accounts.passwords import hash_password
    from casemgmt.cases.identity import name_key
    from casemgmt.cases.search import search_text
    from casemgmt.directory.services import load_areas
    from casemgmt.extensions import db
    from casemgmt.models import (AccessLogEntry, Area, Case, CaseConcern, CaseEvent, CaseNumberSequence, Child,  # noqa
                                 Complaint, Organisation, OrganisationCoverage, OrganisationService, Referral, User)
    from casemgmt.conferences.models import CaseConference, ConferenceCase

    started = time.time()
    rng = random.Random(args.seed)
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url.replace("postgresql://", "postgresql+psycopg://")})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_areas("73")
        db.session.commit()  # operations flush; the caller commits
        sqlite = db.engine.dialect.name == "sqlite"
        conn = db.session.connection()
        if sqlite:
            for trigger in ("case_record_fts_insert", "case_record_fts_delete", "case_record_fts_update"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
            conn.execute(text("PRAGMA synchronous=OFF"))
        else:  # search_word is filled once at the end, not row by row during COPY
            conn.execute(text("ALTER TABLE case_record DISABLE TRIGGER case_record_search_words"))
            deferred = set_aside_indexes(conn)
        regencies = [a for a in db.session.scalars(db.select(Area).where(Area.level == "regency").order_by(Area.code))]
        villages: dict[str, list[str]] = {}
        for code in db.session.scalars(db.select(Area.code).where(Area.level == "village")):
            villages.setdefault(code[:5], []).append(code)
        weights = [4 if r.code in ("73.71", "73.06") else 2 if r.code in ("73.09", "73.02") else 1 for r in regencies]

        # Organisations and users.
        orgs, services, covers = [], [], []
        org_id = 0
        by_regency: dict[str, dict[str, int]] = {}
        for r in regencies:
            by_regency[r.code] = {}
            for kind, svc in (("pksai", ["case_management"]), ("dinas_sosial", ["family_support", "social_assistance"]),
                              ("upt_ppa", ["psychosocial", "legal_aid"]), ("dukcapil", ["birth_certificate"]),
                              ("dinas_pendidikan", ["education"]), ("dinas_kesehatan", ["health"])):
                org_id += 1
                orgs.append({"id": org_id, "name": f"{kind.upper()} {r.name}", "kind": kind, "area_code": r.code,
                             "active": True, "version": 1, "created_at": datetime.now(timezone.utc),
                             "updated_at": datetime.now(timezone.utc)})
                services += [{"organisation_id": org_id, "service": s} for s in svc]
                covers.append({"organisation_id": org_id, "area_code": r.code})
                by_regency[r.code][kind] = org_id
        db.session.execute(Organisation.__table__.insert(), orgs)
        db.session.execute(OrganisationService.__table__.insert(), services)
        db.session.execute(OrganisationCoverage.__table__.insert(), covers)
        pw = hash_password("Bench-password-2026")
        users, user_id = [], 0
        workers: dict[str, list[int]] = {}
        coordinators: dict[str, int] = {}
        registrars: dict[str, list[int]] = {}
        per_regency = 5000 // len(regencies)
        for r in regencies:
            for i in range(per_regency):
                user_id += 1
                role = "coordinator" if i == 0 else "social_worker" if i <= 60 else "village_worker" \
                    if i <= 180 else "agency_officer"
                org = by_regency[r.code]["pksai" if role != "agency_officer" else rng.choice(
                    ["dukcapil", "upt_ppa", "dinas_sosial", "dinas_pendidikan"])]
                users.append({"id": user_id, "username": f"u{user_id}.{r.code}", "full_name": f"Petugas {user_id}",
                              "sex": rng.choice("FM"), "role": role, "organisation_id": org, "area_code": r.code,
                              "active": True, "password_hash": pw, "must_change_password": False,
                              "session_epoch": 0, "version": 1, "created_at": datetime.now(timezone.utc),
                              "updated_at": datetime.now(timezone.utc)})
                if role == "coordinator":
                    coordinators[r.code] = user_id
                elif role == "social_worker":
                    workers.setdefault(r.code, []).append(user_id)
                elif role == "village_worker":
                    registrars.setdefault(r.code, []).append(user_id)
        db.session.execute(User.__table__.insert(), users)
        db.session.commit()
        print(f"{len(orgs)} organisations, {len(users)} users ({time.time() - started:.0f} s)", flush=True)

        now = datetime.now(timezone.utc)
        complaints, children, cases, concerns, events, referrals = [], [], [], [], [], []
        sequences: dict[tuple[str, int], int] = {}
        complaint_id = case_id = event_id = referral_id = 0
        while case_id < args.cases:
            regency = rng.choices(regencies, weights)[0]
            # Complaints come in time order over three years, as in a live registry: ids and case
            # numbers grow with time, so a district's newest cases lie near the end of each table
            # (among the other districts'), not scattered over all of it.
            received = now - timedelta(minutes=SPAN_MINUTES * (1 - case_id / args.cases) + rng.randrange(60))
            # A case's history (at most HISTORY after it was received) is shortened for recent
            # complaints so that nothing but a due date lies after today.
            squeeze = min(1.0, (now - received) / HISTORY)
            complaint_id += 1
            urgent = rng.random() < 0.1
            description = " ".join(rng.choices(WORDS, k=14))
            registrar = rng.choice(registrars[regency.code])
            complaints.append((complaint_id, rng.choice(["walk_in", "phone", "hotline", "outreach"]), received, False,
                               "Pelapor", None, "tetangga", description, urgent, registrar, received, received, 1))
            for _ in range(1 if rng.random() < 0.75 else 2):
                if case_id >= args.cases:
                    break
                case_id += 1
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                village = rng.choice(villages[regency.code])
                birth = (received - timedelta(days=rng.randrange(17 * 365))).date()
                children.append((case_id, name, name_key(name), rng.choice("FM"), birth, False, None, village, None,
                                 received, received, 1))
                key = (regency.code, received.year)
                sequences[key] = sequences.get(key, 0) + 1
                number = f"{regency.code.replace('.', '')}-{received.year}-{sequences[key]:06d}"
                stage = pick(rng, STAGES)
                closed = stage == "termination"
                risk = None if stage == "report" else pick(rng, RISKS)
                worker = None if stage == "report" else rng.choice(workers[regency.code])
                # The case entered its stage at its last transition (as the app records it).
                steps, at = [], received
                for before, after in zip(STAGE_ORDER, STAGE_ORDER[1:STAGE_ORDER.index(stage) + 1]):
                    at = at + timedelta(days=rng.randrange(1, 20)) * squeeze
                    steps.append((at, before, after))
                entered = at
                due = None if closed else entered + timedelta(days=rng.choice([3, 7, 14, 30]))
                cases.append((case_id, number, complaint_id, case_id, regency.code, village, stage,
                              "closed" if closed else "open", risk, urgent, worker, due, entered,
                              entered if closed else None, "goals_met" if closed else None,
                              search_text(number, name, None, description),
                              received, entered, 1))
                for concern in set(rng.choices([c for c, _ in CONCERNS], [w for _, w in CONCERNS], k=2)):
                    concerns.append((case_id, concern))
                event_id += 1
                events.append((event_id, case_id, received, registrar, "registered", None, "report", None, None))
                for at, before, after in steps:
                    event_id += 1
                    events.append((event_id, case_id, at, worker or coordinators[regency.code], "transition", before,
                                   after, None, f'{{"transition": "{TRANSITION[after]}"}}'))
                if rng.random() < 0.5:
                    event_id += 1
                    events.append((event_id, case_id, at, worker, "note", None, None,
                                   " ".join(rng.choices(WORDS, k=10)), None))
                if STAGE_ORDER.index(stage) >= 3 or rng.random() < 0.4:
                    for _ in range(rng.choice([1, 2, 2, 3, 4])):
                        referral_id += 1
                        service = rng.choice(SERVICES)
                        to_kind = {"birth_certificate": "dukcapil", "education": "dinas_pendidikan",
                                   "health": "dinas_kesehatan", "psychosocial": "upt_ppa", "legal_aid": "upt_ppa",
                                   "family_support": "dinas_sosial", "social_assistance": "dinas_sosial"}[service]
                        status = rng.choices(["sent", "accepted", "declined", "completed", "cancelled"],
                                             [10, 20, 8, 57, 5])[0]
                        sent = at + timedelta(hours=rng.randrange(1, 500)) * squeeze
                        answered = (None if status in ("sent", "cancelled")
                                    else sent + timedelta(hours=rng.randrange(1, 96)) * squeeze)
                        referrals.append((referral_id, f"RJK/{number}/{referral_id % 100:02d}-{referral_id}", case_id,
                                          by_regency[regency.code]["pksai"], by_regency[regency.code][to_kind],
                                          service, "Rujukan layanan.", "normal", status, "caregiver", sent.date(),
                                          sent + timedelta(hours=72), answered,
                                          answered + timedelta(days=9) * squeeze if status == "completed" else None,
                                          "Selesai." if status == "completed" else None, worker or registrar, sent,
                                          sent, 1))
            if len(cases) >= 50000:
                _flush(db, complaints, children, cases, concerns, events, referrals)
                print(f"{case_id} cases, {referral_id} referrals, {event_id} events "
                      f"({time.time() - started:.0f} s)", flush=True)
        _flush(db, complaints, children, cases, concerns, events, referrals)
        for (regency, year), last in sequences.items():
            db.session.execute(CaseNumberSequence.__table__.insert(), {"district_code": regency, "year": year,
                                                                       "last_value": last})
        # Conferences: a quarterly one per district over three years, ten cases each.
        conference_id = 0
        for r in regencies:
            ids = list(db.session.scalars(db.select(Case.id).where(Case.district_code == r.code).limit(120)))
            for q in range(12):
                conference_id += 1
                held = now - timedelta(days=91 * q)
                db.session.execute(CaseConference.__table__.insert(), {
                    "id": conference_id, "title": f"Konferensi kasus {r.name} {q}", "scheduled_at": held,
                    "district_code": r.code, "location": "PKSAI", "status": "closed",
                    "created_by_id": coordinators[r.code], "created_at": held, "closed_at": held, "version": 1})
                listed = [{"conference_id": conference_id, "case_id": cid, "position": i}
                          for i, cid in enumerate(ids[q * 10:(q + 1) * 10])]
                if listed:  # a small dataset has districts with fewer than 120 cases
                    db.session.execute(ConferenceCase.__table__.insert(), listed)
        db.session.commit()
        from casemgmt.cases.search import (POSTGRESQL_FILL, SQLITE_FILL, SQLITE_REBUILD, SQLITE_TRIGGERS,
                                           compact_index)

        if sqlite:
            conn = db.session.connection()
            conn.execute(text(SQLITE_REBUILD))
            compact_index(conn)  # as the nightly job leaves it (tasks.compact_search)
            for statement in SQLITE_TRIGGERS:
                conn.execute(text(statement))
            for statement in SQLITE_FILL:
                conn.execute(text(statement))
            conn.execute(text("ANALYZE"))
            db.session.commit()
        else:
            reset_sequences(db)
            restore_indexes(db.session.connection(), deferred)
            print(f"Indexes and foreign keys made again ({time.time() - started:.0f} s)", flush=True)
            db.session.execute(text("ALTER TABLE case_record ENABLE TRIGGER case_record_search_words"))
            db.session.execute(text(POSTGRESQL_FILL))
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        from casemgmt.reports import tally

        counting = time.time()
        tally.rebuild()  # the bulk inserts bypass the ORM that keeps the indicator buckets
        db.session.commit()
        print(f"Indicator buckets counted in {time.time() - counting:.0f} s", flush=True)
    print(f"Done: {args.cases} cases, {referral_id} referrals, {event_id} events, {len(users)} users, "
          f"{conference_id} conferences in {time.time() - started:.0f} s", flush=True)


def _sqlite_converter(column_type):
    """How SQLAlchemy's SQLite dialect stores a value of this type, for a raw insert."""
    from sqlalchemy import Boolean, Date

    from casemgmt.dbtypes import UTCDateTime

    if isinstance(column_type, UTCDateTime):
        return lambda v: v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column_type, Date):
        return lambda v: v.isoformat()
    if isinstance(column_type, Boolean):
        return int
    return None


def _flush(db, complaints, children, cases, concerns, events, referrals):
    from casemgmt.models import CaseConcern, CaseEvent, Child, Complaint, Referral
    from casemgmt.cases.models import Case

    tables = (
        (Complaint, ("id", "channel", "received_at", "reporter_anonymous", "reporter_name", "reporter_phone",
                     "reporter_relationship", "description", "urgent", "registered_by_id", "created_at", "updated_at",
                     "version"), complaints),
        (Child, ("id", "name", "name_key", "sex", "birth_date", "birth_date_estimated", "nik", "area_code", "address",
                 "created_at", "updated_at", "version"), children),
        (Case, ("id", "number", "complaint_id", "child_id", "district_code", "area_code", "stage", "status",
                "risk_level", "urgent", "assigned_worker_id", "due_at", "stage_entered_at", "closed_at",
                "closure_reason", "search_text", "created_at", "updated_at", "version"), cases),
        (CaseConcern, ("case_id", "concern"), concerns),
        (CaseEvent, ("id", "case_id", "at", "actor_id", "kind", "from_stage", "to_stage", "comment", "data"), events),
        (Referral, ("id", "reference", "case_id", "from_organisation_id", "to_organisation_id", "service", "reason",
                    "urgency", "status", "consent_given_by", "consent_recorded_on", "respond_by", "responded_at",
                    "completed_at", "outcome", "created_by_id", "created_at", "updated_at", "version"), referrals),
    )
    from sqlalchemy import JSON

    postgresql = db.session.get_bind().dialect.name == "postgresql"
    for model, columns, rows in tables:
        table = model.__table__
        # JSON columns keep None as the text 'null', as SQLAlchemy's JSON type writes it.
        json_nulls = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        if json_nulls:
            rows[:] = [tuple("null" if i in json_nulls and v is None else v for i, v in enumerate(row))
                       for row in rows]
        if postgresql:  # COPY, in the session's transaction: several times faster than INSERTs
            driver = db.session.connection().connection.driver_connection
            with driver.cursor() as cursor, cursor.copy(
                    f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            rows.clear()
            continue
        # SQLite: the driver's executemany on tuples, with the values stored as SQLAlchemy would
        # store them (naive UTC text, ISO dates, 0/1, JSON text as given): the Core insert built a
        # dict and ran the type processors for every value.
        convert = [_sqlite_converter(table.c[name].type) for name in columns]
        converted = [(i, f) for i, f in enumerate(convert) if f is not None]
        sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        cursor = db.session.connection().connection.driver_connection.cursor()
        for part in chunks(rows):
            if converted:
                part = [list(row) for row in part]
                for row in part:
                    for i, f in converted:
                        if row[i] is not None:
                            row[i] = f(row[i])
            cursor.executemany(sql, part)
        rows.clear()
    db.session.commit()


if __name__ == "__main__":
    main()
