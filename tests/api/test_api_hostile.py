"""Hostile bodies on every API write (Hypothesis): full-width digits, 万, huge numbers,
empty and long Unicode, HTML and script, wrong dates, nulls, wrong types, nested junk — in
each field of each write the OpenAPI document lists. No answer is a 500, and the database
changes only together with a new audit entry: a refused body writes nothing at all."""
import string

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from procurement.api.spec import document
from procurement.api.tokens import create_token
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.extensions import db
from procurement.tasks import cases, records
from procurement.tasks.states import CaseCategory, RecordKind, Urgency

NASTY_TEXT = st.sampled_from([
    "", " ", "\u3000", "４０００００", "40万", "１.５万", "-1", "0", "1e309", "NaN", "Infinity",
    "2026-02-30", "2026/13/01", "0000-00-00", "昨天", "９９９９-１２-３１",
    "<script>alert(1)</script>", "'; DROP TABLE work_records; --", "\u202e反向", "😀" * 50,
    "长" * 20001, "a\x00b", "\r\n", "../../etc/passwd", "{{7*7}}", "%s%s%s",
])
NASTY = st.one_of(
    NASTY_TEXT,
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 2**31, 2**63, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.none(),
    st.lists(st.integers(min_value=-5, max_value=2**40), max_size=5),
    st.dictionaries(st.text(string.ascii_letters, max_size=5), st.integers(), max_size=3),
)
EXAMPLES = 30


def _edges(schema: dict) -> list:
    """Values just outside what the field's schema allows."""
    edges = []
    if "maxLength" in schema:
        edges += ["长" * (schema["maxLength"] + 1), " " * (schema["maxLength"] + 1)]
    if "maximum" in schema:
        edges.append(schema["maximum"] + 1)
    if "minimum" in schema:
        edges.append(schema["minimum"] - 1)
    if "maxItems" in schema:
        edges.append(list(range(1, schema["maxItems"] + 2)))
    if "enum" in schema:
        edges += [schema["enum"][0].upper(), " " + schema["enum"][0]]
    if schema.get("format") == "date":
        edges += ["2026-02-30", "２０２６-０１-０１", "9999-12-31"]
    return edges or [""]


def _value(schema: dict):
    return st.one_of(st.sampled_from(_edges(schema)), NASTY_TEXT, NASTY)


def _tables() -> list[sa.Table]:
    return [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in _tables()}


def _writes(app) -> list[tuple[str, str, dict]]:
    """(method, path template, body schema) of every write in the OpenAPI document."""
    found = []
    for path, methods in document(app)["paths"].items():
        for method, op in methods.items():
            if "requestBody" in op:
                found.append((method.upper(), path,
                              op["requestBody"]["content"]["application/json"]["schema"]))
    return found


@pytest.fixture
def world(appraised, factory):
    """Real rows for every path id, and each write's natural caller."""
    from procurement.accounts.roles import Role
    from procurement.disbursements.models import Account, Instalment

    a = appraised
    agreement, community, agency = a["agreement"], a["community"], a["agency"]
    grid = community.grids[0]
    record = records.add(agency, community=community, kind=RecordKind.PATROL,
                         day=clock.today(), grid=grid, notes="巡查")
    case = cases.report(agency, grid=grid, category=CaseCategory.SAFETY,
                        urgency=Urgency.NORMAL, title="楼道堆物", description="堆放纸箱")
    instalment = db.session.scalar(sa.select(Instalment).join(Account).where(
        Account.agreement_id == agreement.id).limit(1))
    finance = factory.user(Role.FINANCE_OFFICER, org=agreement.cooperation.street_office)
    ids = {"record_id": record.id, "case_id": case.id, "period_id": a["quarter"].id,
           "community_id": community.id, "instalment_id": instalment.id}

    def headers(user):
        return {"Authorization": f"Bearer {create_token(user, user, 'hostile')[1]}"}

    tokens = {"agency": headers(agency), "finance": headers(finance),
              "manager": headers(a["manager"])}
    db.session.flush()
    return ids, tokens


def _caller(path: str, tokens: dict) -> dict:
    if path.endswith("/payments"):
        return tokens["finance"]
    if path.endswith("/department-result"):
        return tokens["manager"]
    return tokens["agency"]


def test_every_api_write_survives_hostile_bodies_without_a_500_or_a_partial_write(
        app, client, world):
    ids, tokens = world
    writes = _writes(app)
    assert len(writes) >= 14
    problems = []
    for method, template, schema in writes:
        path = template
        for name, value in ids.items():
            path = path.replace("{" + name + "}", str(value))
        headers = _caller(template, tokens)
        fields = schema["properties"] or {"unexpected": {}}

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(body=st.fixed_dictionaries({}, optional={n: _value(f) for n, f in fields.items()}))
        def run(body):
            before, entries = _counts(), _count_audit()
            response = client.open(path, method=method, json=body, headers=headers)
            after = _counts()
            label = f"{method} {template} {str(body)[:200]!r} -> {response.status_code}"
            if response.status_code >= 500:
                problems.append(f"server error: {label}")
            elif response.status_code >= 400:
                if after != before:
                    changed = sorted(t for t in after if after[t] != before[t])
                    problems.append(f"refused but wrote {changed}: {label}")
                error = response.get_json()["error"]
                if not (error["code"] and error["message"]):
                    problems.append(f"error without code or message: {label}")
            elif after != before and _count_audit() == entries:
                problems.append(f"changed without an audit entry: {label}")

        run()
    assert not problems, "\n".join(problems[:20])


def _count_audit() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
