"""The authorisation matrix (issue 9): every endpoint that addresses an object × every role
its declared rule lets in × a user of the owning organisation and a user of another one.

The cases are generated from the live app (its URL map and each endpoint's declared
`@allow` / `@authenticated` / `@public` rule), never written out by hand; only the way from
a URL parameter to an object of the fixture world is. A parameter without a mapping makes
`unmapped()` name it, and the test fails, so a new route cannot slip through. Not a
conftest.py: import with `import matrix_support`.

"Allowed" means through the door: anything but 401/403/404 or a redirect to the login page
(a 200, a redirect, a 400/409/422 refusal of the form's content all count). "Denied" means
403 or 404 (401 or the login page would do too) and nothing written.
"""
import os
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for

from procurement.accounts.roles import Role
from procurement.contracts.states import EvaluationSource as Src
from procurement.core.permissions import READ_METHODS, rules_of
from procurement.extensions import db

ANY = "any signed-in user"  # the pseudo-role of @authenticated endpoints

# Roles that hold no organisation's objects but everyone's, by design: there is no "other
# organisation" to keep them out of. They are still checked on the "own" side.
GLOBAL_ROLES = {
    Role.ADMIN: "manages the accounts and organisations of every organisation",
    Role.AUDITOR: "reads every record and the audit trail (审计), read only",
}

# Endpoints with path arguments that address no organisation's object. Public endpoints are
# listed by name on purpose: a new public route with an id must be looked at, not waved on.
EXEMPT = {
    "static": "public: the app's CSS/JS",
    "bootstrap.static": "public: Bootstrap's assets",
    "home.set_language": "public: a language code, no object",
    "notices.show": "public: the notice of a published tender (an unpublished one is a 404 "
                    "for everyone: tests/tenders)",
    "notices.contract": "public: the notice of a signed contract (tests/contracts/"
                        "test_contract_notices.py)",
    "survey_public.answer": "public: the residents' one-time survey token is the credential "
                            "(tests/evaluations/test_survey_pages.py)",
}

# An owner whom the object-level rule refuses on purpose although the endpoint's declared
# rule lets the role in. The matrix checks they are refused (so an entry cannot go stale)
# and still checks the other organisation.
OWNER_REFUSED = {
    ("api.bid", Role.CONTRACT_MANAGER): "the contract manager reads the tender, never a bid: "
                                        "bids are read only by the officer, the overseers, "
                                        "the committee and the bidder (can_read_bid)",
}

# Which source a role fills on a score sheet (sheets.fill takes it in the URL).
SOURCE_OF_ROLE = {
    Role.AGENCY_STAFF: Src.SELF,
    Role.COMMITTEE_STAFF: Src.COMMITTEE,
    Role.CONTRACT_MANAGER: Src.STREET_OFFICE,
    Role.LEADER: Src.STREET_OFFICE,
    Role.UNIVERSITY_EVALUATOR: Src.UNIVERSITY,
}


def _source(world, endpoint, role):
    if endpoint == "sheets.fill":
        return SOURCE_OF_ROLE[role].value
    return Src.STREET_OFFICE.value  # indicator sets: any source the office keeps


def _kind(world, endpoint, role):
    return "quarter" if endpoint.startswith("sheets.") else "households"


def _key(name: str) -> Callable:
    return lambda world, endpoint, role: world.ids[name]


# URL parameter -> the fixture world's object id (or value) for an endpoint and role.
PARAMS: dict[str, Callable] = {
    **{name: _key(name) for name in (
        "tender_id", "bid_id", "document_id", "invitation_id", "challenge_id", "file_id",
        "cooperation_id", "agreement_id", "amendment_id", "special_id", "instalment_id",
        "movement_id", "case_id", "record_id", "household_id", "premises_id", "community_id",
        "period_id", "sheet_id", "evidence_id", "survey_id", "task_id", "token_id",
        "user_id", "org_id", "entry_id")},
    "cid": _key("community_id"),
    "number": lambda world, endpoint, role: 1,
    "kind": _kind,
    "source": _source,
}

# Parameters whose object belongs to one community (林口) of the agreement: the committee
# of the agreement's other community (灵水) must not reach them.
COMMUNITY_SCOPED = frozenset({
    "case_id", "record_id", "household_id", "premises_id", "cid", "community_id", "sheet_id",
    "evidence_id", "survey_id", "instalment_id", "movement_id"})
# Parameters whose object belongs to the winning agency: a losing bidder of the same tender
# (invited, so it reads the tender itself) must not reach them.
WINNER_SCOPED = COMMUNITY_SCOPED | frozenset({
    "bid_id", "file_id", "cooperation_id", "agreement_id", "amendment_id", "special_id",
    "period_id", "task_id"})
# Users related to the world but not to these objects, by role: (world.users key, scope).
NEIGHBOURS = {
    Role.COMMITTEE_STAFF: ("neighbour_committee", COMMUNITY_SCOPED),
    Role.AGENCY_STAFF: ("losing_bidder", WINNER_SCOPED),
}


@dataclass
class World:
    """Objects with known owners: `ids` by parameter name, `own[role]` a user of the owning
    organisation, `other[role]` the same role in an organisation with no part in them;
    `alternatives` another object for a parameter that the objects under the other
    parameters do not belong to (another tender of the same office, a community outside the
    agreement, the sheet of the other community)."""
    ids: dict[str, int]
    own: dict
    other: dict
    users: dict = field(default_factory=dict)
    alternatives: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    role: object  # a Role or ANY
    path: str
    params: frozenset
    swapped: str | None = None  # mismatched_cases: the parameter given another object

    @property
    def api(self) -> bool:
        return self.endpoint.startswith("api.")

    @property
    def neighbour(self):
        entry = NEIGHBOURS.get(self.role)
        if entry and self.params & entry[1]:
            return entry[0]
        return None


def object_endpoints(app):
    """(endpoint, url rule) of every non-exempt endpoint whose URL has arguments."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule)):
        if rule.arguments and rule.endpoint not in EXEMPT:
            yield rule.endpoint, rule


def unmapped(app) -> list[str]:
    """'endpoint: parameter' for every URL parameter the world cannot fill, and every public
    endpoint with arguments that the exemption table does not name."""
    rules = rules_of(app)
    missing = []
    for endpoint, rule in object_endpoints(app):
        if rules.get(endpoint) is None or rules[endpoint].public:
            missing.append(f"{endpoint}: public with path arguments, not in EXEMPT")
            continue
        missing += [f"{endpoint}: {name}" for name in sorted(rule.arguments - set(PARAMS))]
    return missing


def roles_for(access_rule, method: str) -> list:
    if access_rule.any_user:
        return [ANY]
    roles = set(access_rule.roles)
    if method in READ_METHODS:
        roles |= access_rule.read_only
    return sorted((Role(r) for r in roles), key=lambda r: r.value)


def cases(app, world: World) -> list[Case]:
    rules = rules_of(app)
    found = []
    for endpoint, rule in object_endpoints(app):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in roles_for(rules[endpoint], method):
                values = {name: PARAMS[name](world, endpoint, role) for name in rule.arguments}
                with app.test_request_context():
                    path = url_for(endpoint, **values)
                found.append(Case(endpoint, method, role, path, frozenset(rule.arguments)))
    return found


def _object_ids(arguments) -> set[str]:
    return {a for a in arguments if a.endswith("_id") or a == "cid"}


def mismatched_cases(app, world: World) -> list[Case]:
    """For every endpoint that takes two or more object ids, the same URL with one of them
    replaced by an object the others do not belong to (a bid under another tender, a
    community outside the agreement): the owner must be refused. Where a view forgot to
    check that the ids belong together, this is how another organisation would reach an
    object through a parent of its own."""
    rules = rules_of(app)
    found = []
    for endpoint, rule in object_endpoints(app):
        ids = _object_ids(rule.arguments)
        if len(ids) < 2:
            continue
        for swapped in sorted(ids & set(world.alternatives)):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for role in roles_for(rules[endpoint], method):
                    values = {name: PARAMS[name](world, endpoint, role)
                              for name in rule.arguments}
                    values[swapped] = world.alternatives[swapped]
                    with app.test_request_context():
                        path = url_for(endpoint, **values)
                    found.append(Case(endpoint, method, role, path,
                                      frozenset(rule.arguments), swapped))
    return found


def is_denied(status: int, location: str = "") -> bool:
    return status in (401, 403, 404) or (status in (301, 302, 303) and "/login" in location)


def table_counts() -> tuple[int, ...]:
    """Row counts of every table (the audit trail included), in one query: equal before and
    after means the request wrote nothing."""
    global _COUNTS
    if _COUNTS is None:  # built once: a thousand comparisons per run
        _COUNTS = sa.select(*[
            sa.select(sa.func.count()).select_from(t).scalar_subquery().label(f"n{i}")
            for i, t in enumerate(db.metadata.sorted_tables)])
    return tuple(db.session.execute(_COUNTS).one())


_COUNTS = None


@contextmanager
def undone():
    """Whatever the requests inside write is rolled back afterwards, so one case's owner
    acting on an object does not change the world the next case sees."""
    savepoint = db.session.connection().begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        db.session.expire_all()


@dataclass
class Outcome:
    """One row of the matrix: what each user got, as 'allow (200)' / 'deny (404)'."""
    case: Case
    own: str = "—"
    other: str = "—"
    neighbour: str = "—"
    wrong: list[str] = field(default_factory=list)


def label(status, denied: bool) -> str:
    return f"{'deny' if denied else 'allow'} ({status})"


def write_table(outcomes: list[Outcome], path: str) -> None:
    """The matrix as a Markdown table: endpoint, method, role, the owning organisation, another
    organisation, a neighbour (a related organisation that does not own the object)."""
    lines = ["| endpoint | method | role | own organisation | other organisation | neighbour |",
             "|---|---|---|---|---|---|"]
    for o in outcomes:
        role = o.case.role.value if isinstance(o.case.role, Role) else o.case.role
        own = o.own
        if (o.case.endpoint, o.case.role) in OWNER_REFUSED:
            own += f" — on purpose: {OWNER_REFUSED[o.case.endpoint, o.case.role]}"
        other = f"n/a: {GLOBAL_ROLES[o.case.role]}" if o.case.role in GLOBAL_ROLES else o.other
        lines.append(f"| {o.case.endpoint} | {o.case.method} | {role} | {own} | {other} | "
                     f"{o.neighbour} |")
    exempt = [f"- `{e}`: {why}" for e, why in sorted(EXEMPT.items())]
    with open(path, "w", encoding="utf-8") as out:
        out.write("# Authorisation matrix (generated by tests/test_authorisation_matrix.py)\n\n")
        out.write("\n".join(lines) + "\n\nNot in the matrix:\n" + "\n".join(exempt) + "\n")


def matrix_out() -> str | None:
    return os.environ.get("MATRIX_OUT") or None
