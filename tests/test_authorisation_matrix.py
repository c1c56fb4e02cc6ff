"""The authorisation matrix (issue 9): for every endpoint that addresses an object, every
role its declared rule lets in, a user of the organisation that owns the object gets through
the door and a user holding the same role in another organisation (another street office,
agency, residents' committee, university, a judge not on the panel) is refused with 403/404
and, on a POST or PUT, writes nothing. Where the world has one, a related organisation that
does not own the object (the agreement's other residents' committee, the tender's losing
bidder) is refused too. The cases come from the live URL map and the declared rules (tests/matrix_support.py);
the world is the Lingyuan demo, whose objects all have known owners.

Set MATRIX_OUT=path to write the matrix as a Markdown table."""
import io
from datetime import datetime

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

import matrix_support as matrix
from conftest import PASSWORD
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.api.tokens import create_token
from procurement.audit.models import AuditEntry
from procurement.contracts.models import Amendment, Cooperation
from procurement.contracts.states import EvaluationSource as Src
from procurement.core.calendar import SHANGHAI
from procurement.core.permissions import READ_METHODS
from procurement.demo import (DEMO_PASSWORD, DEMO_USERS, LINGYUAN_TENDER, TRAINING_TENDER,
                              load_demo)
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.documents import storage
from procurement.evaluations.models import (EvaluationFile, EvaluationPeriod, EvaluationSheet,
                                            Survey)
from procurement.evaluations.states import PeriodKind
from procurement.extensions import db, limiter
from procurement.orgs.models import Community, OrgKind
from procurement.tasks.models import GridCase, Household, Premises, ServiceTask
from procurement.tenders.models import Tender

# Inside the demo's first annual agreement (2016-05 to 2017-04), after its first quarter.
DEMO_NOW = datetime(2016, 11, 15, 10, 0, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# The owner of the demo's objects in each role.
OWNERS = {
    Role.TENDER_OFFICER: "zhaobiao", Role.CONTRACT_MANAGER: "hetong",
    Role.FINANCE_OFFICER: "caiwu", Role.LEADER: "lingdao", Role.AGENCY_STAFF: "cishan",
    Role.COMMITTEE_STAFF: "linkou", Role.UNIVERSITY_EVALUATOR: "xiada", Role.JUDGE: "judge2",
    Role.AUDITOR: "shenji", Role.ADMIN: "admin", matrix.ANY: "cishan",
}


def _first(query):
    found = db.session.scalars(query.limit(1)).first()
    assert found is not None, f"the demo lacks {query}"
    return found


def _outsiders(factory) -> dict:
    """Each role in organisations that have no part in the demo's objects."""
    office = factory.org(OrgKind.STREET_OFFICE, name="另一街道办事处")
    committee = factory.community(street_office=office, name="另一社区").committee
    orgs = {Role.TENDER_OFFICER: office, Role.CONTRACT_MANAGER: office,
            Role.FINANCE_OFFICER: office, Role.LEADER: office,
            Role.AGENCY_STAFF: factory.org(OrgKind.AGENCY, name="另一社工机构"),
            Role.COMMITTEE_STAFF: committee,
            Role.UNIVERSITY_EVALUATOR: factory.org(OrgKind.UNIVERSITY, name="另一大学"),
            Role.JUDGE: factory.org(OrgKind.GOVERNMENT, name="另一评审专家库")}
    other = {role: factory.user(role, org=org) for role, org in orgs.items()}
    other[matrix.ANY] = other[Role.AGENCY_STAFF]
    return other


def _grid_work(agreement, community, agency_user):
    """One household, one shop and one visit in the community: the demo's year of registers
    and records (15,000 rows) would only slow the pages down."""
    from procurement.core import clock
    from procurement.tasks import records
    from procurement.tasks.states import PremisesKind, RecordKind

    grid = community.grids[0]
    household = Household(community_id=community.id, grid_id=grid.id, building="1号楼",
                          address="1号楼101", head_name="洪大伯")
    shop = Premises(community_id=community.id, grid_id=grid.id, kind=PremisesKind.SHOP,
                    name="林口便利店", address="林口路1号")
    db.session.add_all([household, shop])
    db.session.flush()
    with clock.frozen(DEMO_NOW):
        record = records.add(agency_user, community=community, kind=RecordKind.VISIT,
                             day=DEMO_NOW.date(), grid=grid, household=household)
    return household, shop, record


def build_world(factory) -> matrix.World:
    """The demo's tenders, contracts, grid cases, evaluations and payments (its year of
    registers and records left out), one evidence file and one API token."""
    from procurement.demo import LINGYUAN_COOPERATION
    from procurement.demo_disbursements import load_disbursements
    from procurement.demo_evaluations import load_evaluations

    assert load_demo(work=False) is True
    assert load_evaluations(LINGYUAN_COOPERATION) and load_disbursements(LINGYUAN_COOPERATION)
    db.session.flush()
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    tender = _first(sa.select(Tender).where(Tender.number == LINGYUAN_TENDER))
    winner = users["cishan"]
    bid = next(b for b in tender.bids if b.agency_id == winner.org_id)
    cooperation = _first(sa.select(Cooperation).where(Cooperation.tender_id == tender.id))
    agreement = cooperation.agreements[0]
    community = _first(sa.select(Community).where(
        Community.committee_id == users["linkou"].org_id))
    in_community = dict(community_id=community.id)
    household, shop, record = _grid_work(agreement, community, winner)
    instalment = _first(sa.select(Instalment).join(Account).join(Movement).where(
        Account.agreement_id == agreement.id, Account.community_id == community.id)
        .order_by(Instalment.number))
    period = _first(sa.select(EvaluationPeriod).filter_by(
        agreement_id=agreement.id, kind=PeriodKind.QUARTER, number=1))
    sheet = _first(sa.select(EvaluationSheet).filter_by(
        period_id=period.id, source=Src.SELF, **in_community))
    evidence = EvaluationFile(sheet_id=sheet.id, file=storage.save(storage.check(
        FileStorage(io.BytesIO(PDF), filename="活动照片.pdf")), area="evaluations",
        actor=winner))
    db.session.add(evidence)
    token, _ = create_token(winner, winner, "matrix")
    db.session.flush()
    ids = {
        "tender_id": tender.id, "bid_id": bid.id, "file_id": bid.files[0].id,
        "document_id": tender.documents[0].id, "invitation_id": tender.invitations[0].id,
        "challenge_id": tender.challenges[0].id,
        "cooperation_id": cooperation.id, "agreement_id": agreement.id,
        "amendment_id": _first(sa.select(Amendment).filter_by(agreement_id=agreement.id)).id,
        "special_id": cooperation.specials[0].id,
        "instalment_id": instalment.id, "movement_id": instalment.movements[0].id,
        "case_id": _first(sa.select(GridCase).filter_by(**in_community)).id,
        "record_id": record.id, "household_id": household.id, "premises_id": shop.id,
        "community_id": community.id, "period_id": period.id, "sheet_id": sheet.id,
        "evidence_id": evidence.id,
        "survey_id": _first(sa.select(Survey).filter_by(period_id=period.id,
                                                         **in_community)).id,
        "task_id": _first(sa.select(ServiceTask).filter_by(
            agreement_id=agreement.id, **in_community)).id,
        "token_id": token.id, "user_id": winner.id, "org_id": winner.org_id,
        "entry_id": _first(sa.select(AuditEntry).order_by(AuditEntry.id)).id,
    }
    other = _outsiders(factory)
    elsewhere = _first(sa.select(Community).where(
        Community.committee_id == other[Role.COMMITTEE_STAFF].org_id))
    failed = _first(sa.select(Tender).where(Tender.number == TRAINING_TENDER))
    alternatives = {
        "tender_id": failed.id, "bid_id": failed.bids[0].id,
        "community_id": elsewhere.id, "cid": elsewhere.id,
        "sheet_id": _first(sa.select(EvaluationSheet).where(
            EvaluationSheet.period_id == period.id, EvaluationSheet.source == Src.SELF,
            EvaluationSheet.community_id != community.id)).id,
    }
    world = matrix.World(ids=ids, own={role: users[name] for role, name in OWNERS.items()},
                         other=other, alternatives=alternatives)
    world.users = {"neighbour_committee": users["lingshui"], "losing_bidder": users["pengcheng"]}
    return world


class Doors:
    """A signed-in client per user for the pages, a bearer token per user for the API."""

    def __init__(self, app, sign_in):
        self.app, self.sign_in = app, sign_in
        self.clients, self.tokens = {}, {}

    @staticmethod
    def _password(user):
        return DEMO_PASSWORD if user.username in {row[0] for row in DEMO_USERS} else PASSWORD

    def prepare(self, case: matrix.Case, user) -> None:
        """Sign in or make a token outside the measured, rolled-back request."""
        if case.api and user.id not in self.tokens:
            self.tokens[user.id] = create_token(user, user, "matrix probe")[1]
            db.session.flush()
        elif not case.api and user.id not in self.clients:
            limiter.reset()  # the login form's rate limit is per address
            self.clients[user.id] = self.sign_in(user, self._password(user))

    def open(self, case: matrix.Case, user):
        self.prepare(case, user)
        if case.api:
            client = self.app.test_client()
            kwargs = {"headers": {"Authorization": f"Bearer {self.tokens[user.id]}"}}
            if case.method not in READ_METHODS:
                kwargs["json"] = {}  # the API's empty form
        else:
            client = self.clients[user.id]
            kwargs = {"data": {}}
        try:
            response = client.open(case.path, method=case.method, **kwargs)
        except Exception as exc:  # noqa: BLE001 - reported as a failure of the case
            return f"500 {type(exc).__name__}: {exc}"[:200], ""
        return response.status_code, response.headers.get("Location", "")


def _denied(status, location) -> bool:
    return isinstance(status, int) and matrix.is_denied(status, location)


def refused(doors: Doors, case: matrix.Case, user) -> tuple[object, bool, bool]:
    """(status, refused?, wrote nothing?) for a user who must be kept out; rolled back.
    Row counts are compared for the writing methods (a GET is only checked at the door)."""
    doors.prepare(case, user)
    writes = case.method not in READ_METHODS
    with matrix.undone():
        before = matrix.table_counts() if writes else None
        status, location = doors.open(case, user)
        after = matrix.table_counts() if writes else None
    return status, _denied(status, location), before == after


def _who(case: matrix.Case) -> str:
    role = case.role.value if isinstance(case.role, Role) else case.role
    return f"{case.method} {case.endpoint} as {role}"


def run_case(doors: Doors, world: matrix.World, case: matrix.Case) -> matrix.Outcome:
    """The owner gets through (unless OWNER_REFUSED says otherwise); the other organisation
    and the neighbour, where there is one, are refused and write nothing."""
    outcome = matrix.Outcome(case)
    doors.prepare(case, world.own[case.role])
    with matrix.undone():
        status, location = doors.open(case, world.own[case.role])
    outcome.own = matrix.label(status, _denied(status, location))
    refused_on_purpose = (case.endpoint, case.role) in matrix.OWNER_REFUSED
    if not isinstance(status, int) or _denied(status, location) != refused_on_purpose:
        outcome.wrong.append(f"{_who(case)} of the owning organisation: {status} {location}"
                             + (" (listed in OWNER_REFUSED)" if refused_on_purpose else ""))
    strangers = []
    if case.role not in matrix.GLOBAL_ROLES:
        strangers.append(("other", world.other[case.role]))
    if case.neighbour:
        strangers.append(("neighbour", world.users[case.neighbour]))
    for kind, user in strangers:
        status, denied, unchanged = refused(doors, case, user)
        setattr(outcome, kind, matrix.label(status, denied))
        if not denied:
            outcome.wrong.append(f"{_who(case)} ({kind}: {user.org.name}) got through: {status}")
        elif not unchanged:
            outcome.wrong.append(f"{_who(case)} ({kind}) was refused but wrote rows")
    return outcome


def on_the_demos_clock(monkeypatch):
    """The requests run on the demo's business clock, inside its first agreement (so the
    agency serves its communities "today"), and documents are rendered to HTML only: the
    matrix is about the door, and WeasyPrint takes a second a page
    (tests/documents checks the PDFs)."""
    from procurement.core import clock
    from procurement.documents import pdf

    monkeypatch.setattr(clock, "now", lambda: DEMO_NOW)
    monkeypatch.setattr(pdf, "render_pdf",
                        lambda template, **context: pdf._render_html(template, context) and PDF)


def test_every_object_endpoint_maps_its_url_parameters_to_the_world(app):
    missing = matrix.unmapped(app)
    assert not missing, ("give these URL parameters an object in tests/matrix_support.py "
                         f"PARAMS (or exempt a public endpoint with a reason): {missing}")


def test_the_matrix_covers_every_non_public_endpoint_with_an_object_id(app):
    """Every role each rule names appears: the generator leaves no declared role out."""
    from procurement.core.permissions import rules_of

    world = matrix.World(ids={k: 1 for k in matrix.PARAMS}, own={}, other={})
    generated = matrix.cases(app, world)
    covered = {(c.endpoint, c.method, c.role) for c in generated}
    for endpoint, rule in matrix.object_endpoints(app):
        access = rules_of(app)[endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for role in matrix.roles_for(access, method):
                assert (endpoint, method, role) in covered, (endpoint, method, role)
    assert any(c.endpoint.startswith("api.") for c in generated)


def test_only_the_owning_organisation_gets_through_to_an_object(
        app, factory, sign_in, monkeypatch):
    """The owner gets through; another organisation and the neighbour are refused; and the
    owner is refused an object under a parent it does not belong to (one world, two walks:
    building the demo is the expensive part)."""
    world = build_world(factory)
    on_the_demos_clock(monkeypatch)
    doors = Doors(app, sign_in)
    outcomes = [run_case(doors, world, case) for case in matrix.cases(app, world)]
    if matrix.matrix_out():
        matrix.write_table(outcomes, matrix.matrix_out())
    wrong = [line for o in outcomes for line in o.wrong]
    for case in matrix.mismatched_cases(app, world):
        status, denied, unchanged = refused(doors, case, world.own[case.role])
        if not denied or not unchanged:
            wrong.append(f"{_who(case)} with another {case.swapped}: {status}"
                         + ("" if unchanged else ", and it wrote rows"))
    assert not wrong, "\n".join(wrong)


# --- the harness itself: a matrix that cannot report a hole is worth nothing ---------------

class _Scripted:
    """Doors that answer each user with a scripted status; `writes` users also add a row."""

    def __init__(self, statuses, writes=(), factory=None):
        self.statuses, self.writes, self.factory = statuses, writes, factory

    def prepare(self, case, user):
        pass

    def open(self, case, user):
        if user.username in self.writes:
            self.factory.org(OrgKind.AGENCY)
        status = self.statuses[user.username]
        return (302, "/login?next=/cases/1") if status == "login" else (status, "")


@pytest.mark.parametrize("own, other, neighbour, writes, expected", [
    (200, 403, 404, (), []),
    (302, 404, "login", (), []),
    (409, 403, 403, (), []),
    (200, 200, 403, (), ["(other: 别处) got through: 200"]),
    (200, 403, 302, (), ["(neighbour: 邻居) got through: 302"]),
    (403, 403, 403, (), ["of the owning organisation: 403"]),
    ("login", 403, 403, (), ["of the owning organisation: 302"]),
    (200, 403, 403, ("other",), ["(other) was refused but wrote rows"]),
], ids=["allowed-and-refused", "login-redirect-is-a-refusal", "a-refused-action-is-through-the-door",
        "other-gets-through", "neighbour-redirected-elsewhere", "owner-shut-out",
        "owner-sent-to-login", "refused-but-wrote"])
def test_the_matrix_reports_an_open_door_a_shut_out_owner_and_a_refusal_that_wrote(
        factory, own, other, neighbour, writes, expected):
    from types import SimpleNamespace

    def person(username, org):
        return SimpleNamespace(username=username, org=SimpleNamespace(name=org))

    world = matrix.World(ids={}, own={Role.COMMITTEE_STAFF: person("own", "林口")},
                         other={Role.COMMITTEE_STAFF: person("other", "别处")},
                         users={"neighbour_committee": person("neighbour", "邻居")})
    case = matrix.Case("cases.rate", "POST", Role.COMMITTEE_STAFF, "/cases/1/rate",
                       frozenset({"case_id"}))
    doors = _Scripted({"own": own, "other": other, "neighbour": neighbour}, writes, factory)
    wrong = run_case(doors, world, case).wrong
    assert len(wrong) == len(expected)
    for line, part in zip(wrong, expected):
        assert part in line
