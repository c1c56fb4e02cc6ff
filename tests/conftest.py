"""Shared fixtures: one migrated database per run (SQLite, or a fresh PostgreSQL database
when TEST_DATABASE_URL is set), each test inside a transaction that is rolled back."""
import contextvars
import os
import threading
import uuid
from datetime import timedelta
from itertools import count

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from config import TestConfig, database_url
from procurement import create_app
from procurement.accounts.roles import ROLE_ORG_KINDS, Role
from procurement.core.errors import DomainError
from procurement.extensions import db as _db
from procurement.extensions import limiter

PASSWORD = "Test-password-2016"
# Flask-SQLAlchemy's own session, before the `db` fixture swaps in a rolled-back one.
_REAL_SESSION = _db.session


def row_counts(*models) -> tuple[int, ...]:
    """Row counts of the given tables: equal before and after means nothing was written."""
    return tuple(_db.session.scalar(sa.select(sa.func.count()).select_from(m)) for m in models)


def _postgres_database():
    """Create a uniquely named database on the TEST_DATABASE_URL server; return its URL
    and a function that drops it."""
    server_url = make_url(database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"procurement_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url_for_run(tmp_path_factory):
    if os.environ.get("TEST_DATABASE_URL"):
        url, drop = _postgres_database()
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url_for_run, tmp_path_factory):
    app = create_app(TestConfig, overrides={
        "SQLALCHEMY_DATABASE_URI": database_url_for_run,
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()  # the schema comes from the migrations, as in production
    yield app
    with app.app_context():
        _db.engine.dispose()


class IsolatedClient(FlaskClient):
    """Each request runs in its own application context, as in production: fresh `g`
    (so no cached login leaks between requests), its own database session, teardown run.
    Afterwards the test's own session is expired so it reads what the request wrote."""

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            _db.session.expire_all()
        return response


@pytest.fixture(autouse=True)
def db(app):
    """Every test runs in a transaction rolled back at the end; commits inside the code
    under test become savepoints."""
    context = app.app_context()
    context.push()
    connection = _db.engine.connect()
    transaction = connection.begin()
    # One session per application context, like Flask-SQLAlchemy's own, all on this
    # connection and inside this transaction.
    session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    original, _db.session = _db.session, session
    limiter.reset()
    try:
        yield _db
    finally:
        session.remove()
        _db.session = original
        if transaction.is_active:
            transaction.rollback()
        connection.close()
        context.pop()


@pytest.fixture
def committed_app(db, monkeypatch, tmp_path):
    """An app on its own freshly migrated PostgreSQL database where the code under test
    really commits, on as many connections as it likes: for concurrency tests. Use it
    inside `with committed_app.app_context():` (each thread its own)."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("concurrency tests need PostgreSQL (TEST_DATABASE_URL)")
    url, drop = _postgres_database()
    app = create_app(TestConfig, overrides={"SQLALCHEMY_DATABASE_URI": url,
                                            "UPLOAD_DIR": str(tmp_path / "uploads"),
                                            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 30}})
    monkeypatch.setattr(_db, "session", _REAL_SESSION)
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        drop()


def at_once(app, work, n=12) -> list[str]:
    """Run work(i) in n threads released together, each in its own app context and
    transaction; returns 'ok', a refusal message, or 'error: …' per thread."""
    barrier = threading.Barrier(n)
    results = []

    def worker(i):
        with app.app_context():
            try:
                barrier.wait()
                work(i)
                _db.session.commit()
                results.append("ok")
            except DomainError as exc:
                _db.session.rollback()
                results.append(exc.message)
            except Exception as exc:  # noqa: BLE001 - the test reports it
                _db.session.rollback()
                results.append(f"error: {exc!r}")
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Builds organisations and users through the real services, so tests also exercise
    their rules and audit entries."""

    def __init__(self):
        self._n = count(1)

    def org(self, kind, name=None, **fields):
        from procurement.orgs.models import OrgKind
        from procurement.orgs.services import create_organisation

        kind = OrgKind(kind)
        n = next(self._n)
        if kind is OrgKind.RESIDENTS_COMMITTEE:
            return self.community(name=name).committee
        return create_organisation(None, kind=kind, name=name or f"{kind.label}{n}", **fields)

    def community(self, street_office=None, name=None, grids=5, households=100):
        from procurement.orgs.models import OrgKind
        from procurement.orgs.services import create_community

        street_office = street_office or self.org(OrgKind.STREET_OFFICE)
        return create_community(None, street_office=street_office,
                                name=name or f"测试{next(self._n)}社区", households=households,
                                population=households * 3, grid_count=grids)

    def user(self, *roles, org=None, username=None, password=PASSWORD, must_change=False):
        from procurement.accounts.services import create_user

        roles = roles or (Role.TENDER_OFFICER,)
        if org is None:
            kind = sorted(ROLE_ORG_KINDS[Role(roles[0])])[0]
            org = self.org(kind)
        user, _ = create_user(None, username=username or f"user{next(self._n)}",
                              name=f"测试用户{next(self._n)}", org=org, roles=roles,
                              password=password, must_change_password=must_change)
        _db.session.flush()
        return user


@pytest.fixture
def factory(db):
    return Factory()


@pytest.fixture
def builder(factory):
    """Tenders at any stage (tests/tenders/tender_builder.py)."""
    from tenders.tender_builder import TenderBuilder

    return TenderBuilder(factory)


@pytest.fixture
def contracts(factory, builder):
    """Cooperations and agreements (tests/contracts/contract_builder.py)."""
    from contracts.contract_builder import ContractBuilder

    return ContractBuilder(factory, builder)


@pytest.fixture
def serving(contracts, factory):
    """A community served today by an agreement in force (it started on the first of this
    month, so pages on the real clock see it), with its people: for grid-work tests."""
    from procurement.accounts.roles import Role
    from procurement.contracts import rules
    from procurement.core.calendar import local_today

    contracts.tenders.started(40)
    start = local_today().replace(day=1)
    coop = contracts.in_force(start_date=start, end_date=rules.year_end(start, 3))
    agreement = coop.agreements[0]
    community = agreement.communities[0].community
    return {
        "coop": coop, "agreement": agreement, "community": community,
        "grid": community.grids[0], "worker": contracts.agency_user(coop),
        "colleague": factory.user(Role.AGENCY_STAFF, org=coop.agency),
        "committee": contracts.committee_user, "manager": contracts.manager,
        "other_community": agreement.communities[1].community
        if len(agreement.communities) > 1 else None,
    }


def agreement_past_its_first_quarter(contracts):
    """An agreement in force that started on the first of the month four months ago, with
    its task list: its first quarter has ended. Needs a builder whose tenders were started
    160 days ago (the `appraised` fixture does that; a committed test builds its own)."""
    from procurement.contracts import rules
    from procurement.core.calendar import local_today
    from procurement.tasks import task_list

    month = local_today().replace(day=1)
    for _ in range(4):
        month = (month - timedelta(days=1)).replace(day=1)
    coop = contracts.cooperation(start_date=month, end_date=rules.year_end(month, 3))
    agreement = coop.agreements[0]
    task_list.draw_up(contracts.manager, agreement)
    contracts.sign_all(agreement)
    return agreement


@pytest.fixture
def appraised(contracts, factory):
    """An agreement in force whose first quarter has ended (it started on the first of the
    month four months ago), with the task list drawn up: for evaluation tests. A dict with
    agreement, community (the first), quarter (its first-quarter EvaluationPeriod) and the
    raters: agency, committee (of that community), manager, leader, professor (the
    university's evaluator), plus outsiders: other_agency, other_committee."""
    from procurement.accounts.roles import Role
    from procurement.evaluations import plan

    contracts.tenders.started(160)
    agreement = agreement_past_its_first_quarter(contracts)
    coop = agreement.cooperation
    community = agreement.communities[0].community
    outsider = next(u for u, a in zip(contracts.tenders.agency_users, contracts.tenders.agencies)
                    if a.id != coop.agency_id)
    return {
        "agreement": agreement, "community": community,
        "quarter": plan.periods(agreement)[0],
        "agency": contracts.agency_user(coop), "committee": contracts.committee_user,
        "manager": contracts.manager, "leader": contracts.leader,
        "professor": contracts.professor, "other_agency": outsider,
        "other_committee": factory.user(Role.COMMITTEE_STAFF,
                                        org=factory.community().committee),
    }


@pytest.fixture
def live(builder):
    """Tenders still open for bids by the real clock (pages are not on the frozen clock)."""
    return builder.started(0)


@pytest.fixture
def past(builder):
    """Tenders whose deadline (day 22) passed 8 days ago; an award made then is still
    inside its challenge window."""
    return builder.started(30)


@pytest.fixture
def long_past(builder):
    """Everything happened two months ago: the challenge window has closed."""
    return builder.started(60)


@pytest.fixture
def sign_in(app):
    """A fresh signed-in client per user, so several users can be compared in one test."""
    def do(user, password=PASSWORD):
        client = app.test_client()
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302 and "/login" not in response.headers["Location"]
        return client

    return do


@pytest.fixture
def login(client):
    """login(user) signs the test client in through the real login form."""
    def do_login(user, password=PASSWORD):
        response = client.post("/login", data={"username": user.username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do_login


@pytest.fixture
def login_as(factory, login):
    """login_as(role, org=None): a new user with that role, signed in."""
    def do_login_as(role, org=None):
        return login(factory.user(role, org=org))

    return do_login_as
