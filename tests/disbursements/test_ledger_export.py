"""The street-office-wide ledger export (/disbursements/export.xlsx): a workbook that opens,
holds exactly the instalments the user reads (a residents' committee its own community's,
an outsider none), whose amounts reconcile to the fen with each account's ledger, and that
is read with one query however many instalments there are."""
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from disbursements.test_disbursement_pages import first_instalment
from disbursements.test_disbursements import accept_quarter
from procurement.accounts.roles import Role
from procurement.contracts.models import AgreementCommunity
from procurement.core import clock
from procurement.core.money import to_fen
from procurement.disbursements import ledger, schedule, services
from procurement.disbursements.schedule import account_label
from procurement.disbursements.states import InstalmentState as S
from procurement.extensions import db

URL = "/disbursements/export.xlsx"
SCHEDULED, PAID, WITHHELD, OUTSTANDING, STATE = 6, 10, 11, 12, 13


@pytest.fixture
def ledger_of_two(appraised, factory):
    """An agreement serving two communities: the first's first quarter graded 基本合格 and
    paid at 90% (¥10,000.00 withheld), the second (林口社区, ¥300,000.00) only scheduled."""
    a = appraised
    agreement = a["agreement"]
    office = agreement.cooperation.street_office
    finance = factory.user(Role.FINANCE_OFFICER, org=office)
    accept_quarter(a, "0.7")
    other = factory.community(street_office=office, name="林口社区")
    agreement.communities.append(AgreementCommunity(community_id=other.id, community=other,
                                                    amount_fen=30_000_000))
    db.session.flush()
    schedule.schedule(a["manager"], agreement)
    paid = first_instalment(a)
    services.request(a["manager"], paid)
    services.approve(a["leader"], paid)
    services.pay(finance, paid, paid_on=clock.today(), voucher_no="LY-0001")
    assert paid.state is S.PAID and paid.withheld_fen == 1_000_000
    return {**a, "finance": finance, "second": other,
            "second_committee": factory.user(Role.COMMITTEE_STAFF, org=other.committee)}


def exported(client) -> list[tuple]:
    response = client.get(URL)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert int(response.headers["Content-Length"]) == len(response.data)
    rows = list(load_workbook(io.BytesIO(response.data)).worksheets[0]
                .iter_rows(values_only=True))
    assert rows[0][:3] == ("协议编号", "承接机构", "账户")
    return rows[1:]


def fen(value) -> int:
    return to_fen(Decimal(str(value or 0)))


def test_the_street_office_exports_every_instalment_reconciling_with_the_ledger(
        ledger_of_two, sign_in):
    a = ledger_of_two
    rows = exported(sign_in(a["manager"]))
    books = ledger.ledger(a["agreement"])
    assert len(rows) == sum(len(book.rows) for book in books) == 8
    for book in books:
        mine = [r for r in rows if r[2] == account_label(book.account)]
        assert len(mine) == len(book.rows)
        assert sum(fen(r[SCHEDULED]) for r in mine) == book.scheduled
        assert sum(fen(r[PAID]) for r in mine) == book.paid == book.account.paid_fen
        assert sum(fen(r[WITHHELD]) for r in mine) == book.withheld
        assert sum(fen(r[OUTSTANDING]) for r in mine) == sum(x.outstanding for x in book.rows)
    first = next(r for r in rows if r[2].endswith(a["community"].name) and r[3] == 1)
    assert (fen(first[PAID]), fen(first[WITHHELD]), first[STATE]) == (9_000_000, 1_000_000,
                                                                       "已拨付")
    assert first[0] == a["agreement"].number and first[1] == a["agreement"].cooperation.agency.name
    assert sum(fen(r[SCHEDULED]) for r in rows) == 70_000_000


def test_a_committee_exports_its_own_community_only(ledger_of_two, sign_in):
    a = ledger_of_two
    rows = exported(sign_in(a["second_committee"]))
    assert len(rows) == 4
    assert all(r[2].endswith("林口社区") for r in rows)
    assert sum(fen(r[SCHEDULED]) for r in rows) == 30_000_000
    assert sum(fen(r[PAID]) for r in rows) == 0
    first_community = exported(sign_in(a["committee"]))
    assert len(first_community) == 4
    assert all(r[2].endswith(a["community"].name) for r in first_community)


def test_outsiders_export_an_empty_ledger(ledger_of_two, sign_in):
    a = ledger_of_two
    for outsider in (a["other_agency"], a["other_committee"]):
        assert exported(sign_in(outsider)) == []


def test_the_list_links_to_the_export_when_there_is_something_to_export(
        ledger_of_two, sign_in):
    a = ledger_of_two
    assert URL in sign_in(a["manager"]).get("/disbursements/").get_data(as_text=True)
    outsider = sign_in(a["other_agency"]).get("/disbursements/").get_data(as_text=True)
    assert URL not in outsider


def test_the_export_reads_all_instalments_in_one_query(ledger_of_two, sign_in):
    a = ledger_of_two
    client = sign_in(a["finance"])
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        rows = exported(client)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(rows) == 8
    assert len([s for s in statements if "instalments" in s]) == 1
