"""SQL statements per request on the main pages, at 10 and at 2,000 communities: a page's
count must not grow with the data (equal at both sizes) and stay at or under 12.

Seeds two fresh databases with `procurement.bench_seed` (10 and 2,000 communities, seed 1;
SQLite files in a temporary directory, or new databases on a PostgreSQL server given with
--database-url or BENCH_DATABASE_URL, dropped afterwards), then requests every main list and
detail page through the test client (details of the first street office's cooperation: its
third-year agreement, whose ledger has ended unpaid instalments) and counts the statements
of each request with a before_cursor_execute listener (transaction control such as
SQLite's BEGIN is not counted). Pages are read by the auditor (who
reads everything, city-wide) and, where a page is another role's, by that role.

    .venv/bin/python bench/query_counts.py [--sizes 10,2000] [--database-url URL] [--verbose]

Prints `queries_<page>_<size> N` for each page and size, then `query_counts_equal 1|0`
(every page the same at every size), `query_counts_max N`, the seeding time per size
(`seed_<size>_s`) and, with --verbose, the statements of the largest request.
"""
import argparse
import logging
import os
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIMIT = 12
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


@contextmanager
def seeded_app(size: int, server_url: str | None, tmp: Path):
    """An app on a fresh database holding the bench seed of `size` communities."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from config import TestConfig, database_url
    from procurement import create_app
    from procurement.bench_seed import seed
    from procurement.extensions import db

    cleanups = []
    if server_url:
        server = sa.engine.make_url(database_url(server_url))
        name = f"bench_queries_{size}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

        def cleanup():
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        cleanups.append(cleanup)
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp / f'bench_{size}.sqlite3'}"
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url,
                                            "UPLOAD_DIR": str(tmp / f"uploads_{size}"),
                                            "RATELIMIT_ENABLED": False})
    try:
        with app.app_context():
            upgrade()
            start = time.perf_counter()
            seed(size, 1)
            db.session.commit()
            print(f"seed_{size}_s {time.perf_counter() - start:.1f}")
        # Requests run outside any outer app context, each in its own as in production (an
        # outer one would be shared by every request, its `g` and the login with it).
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        for cleanup in cleanups:
            cleanup()


def pages() -> list[tuple[str, str, str]]:
    """(name, role login, url) of every main page, with ids from the first street office."""
    import sqlalchemy as sa

    from procurement.audit.models import AuditEntry
    from procurement.contracts.models import Agreement, Cooperation
    from procurement.disbursements.models import Account, Instalment
    from procurement.evaluations.models import EvaluationPeriod, EvaluationSheet, Survey
    from procurement.extensions import db
    from procurement.tasks.models import GridCase, WorkRecord
    from procurement.tenders.models import Tender

    def first(query):
        return db.session.scalar(query.limit(1))

    cooperation = first(sa.select(Cooperation).where(Cooperation.number == "HT2024-0001"))
    tender = cooperation.tender_id
    agreement = first(sa.select(Agreement).where(Agreement.cooperation_id == cooperation.id,
                                                 Agreement.year_no == 3))
    community = agreement.communities[0].community_id
    instalment = first(sa.select(Instalment.id).join(Account).where(
        Account.agreement_id == agreement.id, Account.community_id == community,
        Instalment.number == 2))
    period = first(sa.select(EvaluationPeriod.id).where(
        EvaluationPeriod.agreement_id == agreement.id, EvaluationPeriod.number == 1))
    sheet = first(sa.select(EvaluationSheet.id).where(EvaluationSheet.period_id == period,
                                                      EvaluationSheet.community_id == community))
    survey = first(sa.select(Survey.id).where(Survey.period_id == period,
                                              Survey.community_id == community))
    record = first(sa.select(WorkRecord.id).where(WorkRecord.agreement_id == agreement.id,
                                                  WorkRecord.community_id == community))
    case = first(sa.select(GridCase.id).where(GridCase.community_id == community)
                 .order_by(GridCase.id.desc()))
    entry = first(sa.select(AuditEntry.id).order_by(AuditEntry.seq))
    aid = agreement.id
    assert tender == first(sa.select(Tender.id).where(Tender.number == "ZB2024-0001"))
    auditor = "bench-auditor"
    return [
        ("home_auditor", auditor, "/"),
        ("home_contract_manager", "bench-contract_manager", "/"),
        ("home_leader", "bench-leader", "/"),
        ("home_finance_officer", "bench-finance_officer", "/"),
        ("home_agency_staff", "bench-agency_staff", "/"),
        ("home_committee_staff", "bench-committee_staff", "/"),
        ("home_university_evaluator", "bench-university_evaluator", "/"),
        ("tenders", auditor, "/tenders/"),
        ("tender", auditor, f"/tenders/{tender}"),
        ("notices", auditor, "/notices/"),
        ("notice", auditor, f"/notices/{tender}"),
        ("contract_notices", auditor, "/notices/contracts"),
        ("judging", "bench-judge", "/judging/"),
        ("judging_tender", "bench-judge", f"/judging/tenders/{tender}"),
        ("contracts", auditor, "/contracts/"),
        ("cooperation", auditor, f"/contracts/{cooperation.id}"),
        ("agreement", auditor, f"/contracts/agreements/{aid}"),
        ("disbursements", auditor, "/disbursements/"),
        ("ledger", auditor, f"/disbursements/{aid}"),
        ("instalment", auditor, f"/disbursements/instalments/{instalment}"),
        ("work", auditor, "/work/"),
        ("completion_agreement", auditor, f"/work/{aid}"),
        ("completion_community", auditor, f"/work/{aid}/communities/{community}"),
        ("completion_quarter", auditor, f"/work/{aid}/communities/{community}/quarters/1"),
        ("records", auditor, "/records/"),
        ("record", auditor, f"/records/{record}"),
        ("cases", auditor, "/cases/"),
        ("case", auditor, f"/cases/{case}"),
        ("registers", auditor, "/registers/"),
        ("households", auditor, f"/registers/{community}/households"),
        ("premises", auditor, f"/registers/{community}/premises"),
        ("team", auditor, "/team/"),
        ("team_agreement", auditor, f"/team/agreements/{aid}"),
        ("evaluations", auditor, "/evaluations/"),
        ("evaluations_agreement", auditor, f"/evaluations/{aid}"),
        ("evaluations_period", auditor, f"/evaluations/{aid}?period={period}"),
        ("sheets", "bench-university_evaluator", "/evaluations/sheets/"),
        ("sheet", auditor, f"/evaluations/sheets/{sheet}"),
        ("surveys", auditor, "/surveys/"),
        ("survey", auditor, f"/surveys/{survey}"),
        ("audit", auditor, "/audit/"),
        ("audit_entry", auditor, f"/audit/{entry}"),
        ("orgs", "bench-admin", "/admin/orgs/"),
        ("users", "bench-admin", "/admin/users/"),
    ]


def measure(app) -> tuple[dict[str, int], dict[str, list[str]]]:
    import sqlalchemy as sa

    from procurement.demo import DEMO_PASSWORD
    from procurement.extensions import db

    with app.app_context():
        targets = pages()
        statements: list[str] = []

        def count(conn, cursor, statement, *rest):
            # Transaction control is not a query (and only SQLite's driver sends BEGIN).
            if statement.split(None, 1)[0].upper() not in TRANSACTION_CONTROL:
                statements.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
    counts, logs = {}, {}
    clients = {}
    for name, login, url in targets:
        client = clients.get(login)
        if client is None:
            client = clients[login] = app.test_client()
            response = client.post("/login", data={"username": login, "password": DEMO_PASSWORD})
            assert response.status_code == 302, (login, response.status_code)
        client.get(url)  # warm: first-request work (compiled queries, caches) is not counted
        statements.clear()
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        counts[name] = len(statements)
        logs[name] = list(statements)
    return counts, logs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,2000", help="community counts, comma-separated")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"),
                        help="a PostgreSQL server to create the databases on (default: SQLite)")
    parser.add_argument("--verbose", action="store_true", help="print the largest request's SQL")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # keep Alembic's progress lines out of the figures
    sizes = [int(s) for s in args.sizes.split(",")]

    results: dict[int, dict[str, int]] = {}
    logs: dict[int, dict[str, list[str]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            with seeded_app(size, args.database_url, Path(tmp)) as app:
                results[size], logs[size] = measure(app)
    names = list(results[sizes[0]])
    for name in names:
        for size in sizes:
            print(f"queries_{name}_{size} {results[size][name]}")
    equal = all(len({results[size][name] for size in sizes}) == 1 for name in names)
    largest = max(((results[s][n], n, s) for s in sizes for n in names))
    print(f"query_counts_equal {int(equal)}")
    print(f"query_counts_max {largest[0]}")
    over = [n for n in names if any(results[s][n] > LIMIT for s in sizes)]
    print(f"query_counts_over_{LIMIT} {len(over)}")
    if args.verbose:
        for name in names:
            if len({results[size][name] for size in sizes}) > 1 or name in over:
                print(f"# {name}: " + ", ".join(f"{s}: {results[s][name]}" for s in sizes))
                for statement in logs[sizes[-1]][name]:
                    print("#   " + " ".join(statement.split())[:200])


if __name__ == "__main__":
    main()
