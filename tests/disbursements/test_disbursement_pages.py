"""The disbursement pages: request → approval by someone else → payment through the pages,
each audited; the requester never sees the approve button and gets the service's refusal if
they post; a double-submitted payment writes one movement; outsiders get 403 and the
auditor only reads; bad money input is refused with a message and writes nothing; the
ledger's totals reconcile; the Excel export; the payment rule and the agency's spending
report through their forms; the home to-dos; and a bounded number of queries on the
ledger page."""
import io
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from disbursements.test_disbursements import accept_quarter
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.contracts.models import AgreementCommunity
from procurement.contracts.states import BudgetCategory, Grade
from procurement.core import clock
from procurement.disbursements import schedule, services, spending
from procurement.disbursements.models import (Account, Instalment, Movement, PaymentRule,
                                              SpendingReport)
from procurement.disbursements.states import InstalmentState as S
from procurement.extensions import db
from procurement.home.todos import todos_for


FULL_WIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


def _text(response) -> str:
    return response.get_data(as_text=True)


def first_instalment(a, community=None) -> Instalment:
    community = community or a["community"]
    account = db.session.scalar(sa.select(Account).where(
        Account.agreement_id == a["agreement"].id, Account.community_id == community.id))
    return next(i for i in account.instalments if i.number == 1)


def ledger_url(a) -> str:
    return f"/disbursements/{a['agreement'].id}"


def page_of(i: Instalment) -> str:
    return f"/disbursements/instalments/{i.id}"


def audited(instalment: Instalment, action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.object_type == "instalments", AuditEntry.object_id == str(instalment.id),
        AuditEntry.action == action)))


@pytest.fixture
def finance(appraised, factory):
    return factory.user(Role.FINANCE_OFFICER, org=appraised["agreement"].cooperation.street_office)


@pytest.fixture
def accepted(appraised, finance):
    """The appraised agreement with its first quarter accepted (graded 优秀), and the
    people of the payment: manager, leader, finance."""
    accept_quarter(appraised, "0.95")
    return {**appraised, "finance": finance, "instalment": first_instalment(appraised)}


@pytest.fixture
def approved(accepted):
    i = accepted["instalment"]
    services.request(accepted["manager"], i)
    services.approve(accepted["leader"], i)
    return accepted


def _pay(client, i, amount=None, voucher="LY2016-001", reason=""):
    return client.post(f"{page_of(i)}/pay", data={
        "amount": amount if amount is not None else f"{i.payable_fen / 100:.2f}",
        "paid_on": clock.today().isoformat(), "voucher_no": voucher, "reason": reason})


# --- the workflow through the pages --------------------------------------------------------


def test_request_then_approval_by_another_then_payment_each_audited(accepted, sign_in):
    a, i = accepted, accepted["instalment"]
    manager = sign_in(a["manager"])
    page = _text(manager.get(page_of(i)))
    assert "季度已验收，可以申请拨付。" in page and f"{page_of(i)}/request" in page
    response = manager.post(f"{page_of(i)}/request")
    assert response.status_code == 302
    assert i.state is S.REQUESTED and i.payable_fen == i.amount_fen
    assert [e.actor_id for e in audited(i, "disbursement.requested")] == [a["manager"].id]

    leader = sign_in(a["leader"])
    assert f"{page_of(i)}/approve" in _text(leader.get(page_of(i)))
    assert leader.post(f"{page_of(i)}/approve").status_code == 302
    assert i.state is S.APPROVED and i.approved_by_id == a["leader"].id
    assert [e.actor_id for e in audited(i, "disbursement.approved")] == [a["leader"].id]

    finance = sign_in(a["finance"])
    form = _text(finance.get(page_of(i)))
    assert f'value="{i.payable_fen / 100:.2f}"' in form  # the amount defaults to the payable
    assert _pay(finance, i).status_code == 302
    assert i.state is S.PAID
    movement = db.session.scalar(sa.select(Movement).where(Movement.instalment_id == i.id))
    assert (movement.amount_fen, movement.voucher_no, movement.recorded_by_id) == (
        i.payable_fen, "LY2016-001", a["finance"].id)
    assert [e.actor_id for e in audited(i, "disbursement.paid")] == [a["finance"].id]
    # The history on the page names each step and who took it.
    page = _text(finance.get(page_of(i)))
    history = page[page.index("办理过程"):]
    for label, user in (("申请拨付", a["manager"]), ("审批拨付", a["leader"]),
                        ("登记拨付", a["finance"])):
        assert label in history and user.name in history


def test_the_requester_does_not_see_approve_and_is_refused_if_they_post(
        accepted, factory, sign_in):
    a, i = accepted, accepted["instalment"]
    both = factory.user(Role.CONTRACT_MANAGER, Role.LEADER,
                        org=a["agreement"].cooperation.street_office)
    client = sign_in(both)
    assert client.post(f"{page_of(i)}/request").status_code == 302
    page = _text(client.get(page_of(i)))
    assert f"{page_of(i)}/approve" not in page
    assert "申请人不能审批自己的拨付申请" in page
    counts = row_counts(AuditEntry)
    response = client.post(f"{page_of(i)}/approve")
    assert response.status_code == 200
    assert "审批人不能是申请人本人。" in _text(response)
    assert i.state is S.REQUESTED and i.approved_by_id is None
    assert row_counts(AuditEntry) == counts
    # Someone else approves it.
    assert sign_in(a["leader"]).post(f"{page_of(i)}/approve").status_code == 302
    assert i.state is S.APPROVED


def test_a_double_submitted_payment_writes_one_movement(approved, sign_in):
    a, i = approved, approved["instalment"]
    client = sign_in(a["finance"])
    assert _pay(client, i, voucher="LY-1").status_code == 302
    second = _pay(client, i, voucher="LY-2")
    assert second.status_code == 200 and "不能登记拨付" in _text(second)
    assert list(db.session.scalars(sa.select(Movement.voucher_no))) == ["LY-1"]
    assert len(audited(i, "disbursement.paid")) == 1
    assert i.account.paid_fen == i.payable_fen


@pytest.mark.parametrize("amount, message", [
    ("40万元整多", "无法识别的金额"),
    ("", "请填写拨付金额（元）。"),
    ("-100", "金额不能为负数"),
    ("１０００００００", "拨付金额应在 0 至 ¥100,000.00 之间"),  # full width, over the payable
])
def test_bad_money_input_gets_a_message_and_writes_nothing(approved, sign_in, amount, message):
    a, i = approved, approved["instalment"]
    client = sign_in(a["finance"])  # signing in is audited too
    counts = row_counts(Movement, AuditEntry)
    response = _pay(client, i, amount=amount)
    assert response.status_code == 200
    assert message in _text(response)
    assert row_counts(Movement, AuditEntry) == counts
    assert i.state is S.APPROVED and i.account.paid_fen == 0


def test_paying_less_needs_a_reason_and_the_rest_is_withheld(approved, sign_in):
    a, i = approved, approved["instalment"]
    client = sign_in(a["finance"])
    short = _pay(client, i, amount="９万")  # full-width digits and 万
    assert "少于应拨金额的，须写明暂扣原因。" in _text(short) and i.state is S.APPROVED
    assert _pay(client, i, amount="９万", reason="票据未齐").status_code == 302
    assert i.state is S.PAID and i.withheld_fen == i.amount_fen - 9_000_000
    assert "票据未齐" in i.withhold_reason


def test_a_payment_is_reversed_with_a_reason_and_the_original_kept(approved, sign_in):
    a, i = approved, approved["instalment"]
    client = sign_in(a["finance"])
    _pay(client, i, voucher="WRONG-1")
    payment = db.session.scalar(sa.select(Movement).where(Movement.instalment_id == i.id))
    counts = row_counts(Movement)
    empty = client.post(f"/disbursements/movements/{payment.id}/reverse",
                        data={f"m{payment.id}-reason": "  "})
    assert "请填写冲正原因。" in _text(empty) and row_counts(Movement) == counts
    done = client.post(f"/disbursements/movements/{payment.id}/reverse",
                       data={f"m{payment.id}-reason": "凭证号录错"})
    assert done.status_code == 302
    assert payment.reversed and i.state is S.APPROVED and i.account.paid_fen == 0
    amounts = list(db.session.scalars(sa.select(Movement.amount_fen).order_by(Movement.id)))
    assert amounts == [i.payable_fen, -i.payable_fen]
    assert len(audited(i, "disbursement.reverse")) == 1


def test_withheld_money_is_released_through_the_page(appraised, finance, sign_in):
    a = appraised
    accept_quarter(a, "0.7")  # 基本合格: 90%
    i = first_instalment(a)
    services.request(a["manager"], i)
    services.approve(a["leader"], i)
    services.pay(finance, i, paid_on=clock.today(), voucher_no="LY-1")
    client = sign_in(a["leader"])
    page = _text(client.get(page_of(i)))
    assert f"{page_of(i)}/release" in page and 'value="10000.00"' in page
    refused = client.post(f"{page_of(i)}/release", data={
        "amount": "10000", "paid_on": clock.today().isoformat(), "voucher_no": "LY-2",
        "reason": ""})
    assert "请填写补拨理由。" in _text(refused) and i.withheld_fen == 1_000_000
    assert client.post(f"{page_of(i)}/release", data={
        "amount": "1万", "paid_on": clock.today().isoformat(), "voucher_no": "LY-2",
        "reason": "整改已验收合格"}).status_code == 302
    assert i.withheld_fen == 0 and i.account.paid_fen == i.amount_fen


# --- who reads ------------------------------------------------------------------------------


@pytest.fixture
def two_communities(approved, factory):
    """The agreement also serving a second community with its own account."""
    a = approved
    agreement = a["agreement"]
    other = factory.community(street_office=agreement.cooperation.street_office, name="林口社区")
    agreement.communities.append(AgreementCommunity(community_id=other.id, community=other,
                                                    amount_fen=30_000_000))
    db.session.flush()
    schedule.schedule(a["manager"], agreement)
    return {**a, "second": other,
            "second_committee": factory.user(Role.COMMITTEE_STAFF, org=other.committee)}


def test_outsiders_get_403_and_a_committee_reads_its_own_community_only(
        two_communities, sign_in):
    a = two_communities
    services.pay(a["finance"], a["instalment"], paid_on=clock.today(), voucher_no="LY-1")
    payment = db.session.scalar(sa.select(Movement))
    mine, theirs = a["instalment"], first_instalment(a, a["second"])
    urls = [ledger_url(a), f"{ledger_url(a)}/export.xlsx", page_of(mine),
            f"/disbursements/movements/{payment.id}/voucher.pdf"]
    for outsider in (a["other_committee"], a["other_agency"]):
        client = sign_in(outsider)
        for url in urls:
            assert client.get(url).status_code == 403, (outsider.username, url)
        assert a["agreement"].number not in _text(client.get("/disbursements/"))

    second = sign_in(a["second_committee"])
    assert second.get(page_of(theirs)).status_code == 200
    for url in (page_of(mine), f"/disbursements/movements/{payment.id}/voucher.pdf"):
        assert second.get(url).status_code == 403
    page = _text(second.get(ledger_url(a)))
    assert "林口社区" in page and a["community"].name not in page
    assert "LY-1" not in page  # the other community's payment
    index = _text(second.get("/disbursements/"))
    assert "¥300,000.00" in index and "¥400,000.00" not in index  # its own account's totals

    agency = _text(sign_in(a["agency"]).get(ledger_url(a)))
    assert "林口社区" in agency and a["community"].name in agency and "LY-1" in agency


def test_the_auditor_reads_but_cannot_post(approved, factory, sign_in):
    a, i = approved, approved["instalment"]
    services.pay(a["finance"], i, paid_on=clock.today(), voucher_no="LY-1")
    payment = db.session.scalar(sa.select(Movement))
    auditor = sign_in(factory.user(Role.AUDITOR, org=factory.org("government")))
    for url in ("/disbursements/", ledger_url(a), f"{ledger_url(a)}/export.xlsx", page_of(i),
                f"/disbursements/movements/{payment.id}/voucher.pdf"):
        assert auditor.get(url).status_code == 200, url
    page = _text(auditor.get(page_of(i)))
    assert "/reverse" not in page and "/release" not in page
    counts = row_counts(Movement, AuditEntry, PaymentRule)
    for url in (f"/disbursements/movements/{payment.id}/reverse", f"{page_of(i)}/release",
                f"{page_of(i)}/pay", f"{ledger_url(a)}/rule"):
        assert auditor.post(url, data={f"m{payment.id}-reason": "审计"}).status_code == 403
    assert row_counts(Movement, AuditEntry, PaymentRule) == counts


# --- the ledger ------------------------------------------------------------------------------


def test_the_ledger_shows_totals_that_reconcile(appraised, finance, sign_in):
    a = appraised
    accept_quarter(a, "0.7")  # 基本合格: 90% of ¥100,000.00 paid, ¥10,000.00 withheld
    i = first_instalment(a)
    services.request(a["manager"], i)
    services.approve(a["leader"], i)
    services.pay(finance, i, paid_on=clock.today(), voucher_no="LY-0001")
    page = _text(sign_in(a["manager"]).get(ledger_url(a)))
    totals = dict(re.findall(r'data-total="(\w+)">([^<]+)<', page))
    assert totals == {"scheduled": "¥400,000.00", "paid": "¥90,000.00",
                      "withheld": "¥10,000.00", "outstanding": "¥300,000.00",
                      "remaining": "¥310,000.00"}
    assert "账实相符" in page and "账目不一致" not in page
    assert "等级“基本合格”，按 90% 拨付" in page and "LY-0001" in page
    # The chart: the first due date has ¥10.00万 scheduled and ¥9.00万 paid for it.
    assert "<svg" in page and "10.00万" in page and "9.00万" in page
    index = _text(sign_in(a["manager"]).get("/disbursements/"))
    assert all(v in index for v in ("¥400,000.00", "¥90,000.00", "¥10,000.00", "¥310,000.00"))


def test_the_ledger_says_why_an_instalment_cannot_be_requested_yet(appraised, sign_in):
    a = appraised
    page = _text(sign_in(a["manager"]).get(ledger_url(a)))
    assert "第一季度机构自评尚未通过审核。" in page
    assert "第二季度尚未结束。" in page


def test_the_export_lists_every_instalment_and_movement(approved, sign_in):
    a, i = approved, approved["instalment"]
    services.pay(a["finance"], i, paid_on=clock.today(), voucher_no="=HYPERLINK(1)")
    response = sign_in(a["agency"]).get(f"{ledger_url(a)}/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    plan, flows = book.worksheets
    rows = list(plan.iter_rows(values_only=True))
    assert rows[0][:5] == ("账户", "期次", "季度", "到期日", "计划金额（元）")
    assert len(rows) == 1 + 4 and sum(r[4] for r in rows[1:]) == 400000
    assert rows[1][1] == 1 and rows[1][8] == 100000 and rows[1][11] == "已拨付"
    moves = list(flows.iter_rows(values_only=True))
    assert len(moves) == 2 and moves[1][4] == 100000
    assert moves[1][5] == "'=HYPERLINK(1)"  # typed text never becomes a formula


def test_the_ledger_page_runs_a_bounded_number_of_queries(approved, sign_in):
    a, i = approved, approved["instalment"]
    finance = a["finance"]
    services.pay(finance, i, paid_on=clock.today(), voucher_no="V-1")
    client = sign_in(a["finance"])
    url = ledger_url(a)
    client.get(url)  # warm up

    def queries() -> int:
        statements = []

        def count(*args):
            statements.append(args[2])

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    before = queries()
    assert before <= 25
    # More money movements and spending reports do not cost more queries.
    for n in range(3):
        payment = db.session.scalar(sa.select(Movement).where(
            Movement.instalment_id == i.id, Movement.reversed.is_(False),
            Movement.kind == "payment"))
        services.reverse(finance, payment, reason=f"更正{n}")
        services.pay(finance, i, paid_on=clock.today(), voucher_no=f"V-{n + 2}")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Movement)) == 7
    budget = {line.category: line.amount_fen // 4 for line in a["agreement"].budget_lines}
    spending.report(a["agency"], a["agreement"], a["community"], 1, budget)
    assert queries() == before


# --- the payment rule and the spending report ----------------------------------------------


def test_the_contract_manager_sets_the_rule_until_a_payment_is_requested(accepted, sign_in):
    a = accepted
    client = sign_in(a["manager"])
    bad = client.post(f"{ledger_url(a)}/rule", data={"excellent": "100", "good": "80",
                                                      "basic": "90", "fail": "0"})
    assert bad.status_code == 200 and "等级越低，拨付比例不能越高。" in _text(bad)
    assert db.session.get(PaymentRule, a["agreement"].id) is None
    assert client.post(f"{ledger_url(a)}/rule", data={"excellent": "100", "good": "９５",
                                                       "basic": "80%", "fail": "0"}
                       ).status_code == 302
    assert services.shares_of(a["agreement"])[Grade.GOOD] == Decimal("0.95")
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "disbursement.rule"))
    assert entry.actor_id == a["manager"].id
    services.request(a["manager"], a["instalment"])
    page = _text(client.get(ledger_url(a)))
    assert "本协议已有拨付申请，拨付规则不能再修改。" in page
    assert f"{ledger_url(a)}/rule" not in page
    # Other roles never see the form.
    assert f"{ledger_url(a)}/rule" not in _text(sign_in(a["leader"]).get(ledger_url(a)))


def test_the_agency_reports_spending_and_an_over_budget_line_is_flagged(appraised, sign_in):
    a = appraised
    agreement, community = a["agreement"], a["community"]
    budget = {line.category: line.amount_fen for line in agreement.budget_lines
              if line.community_id == community.id}
    category = next(iter(budget))
    client = sign_in(a["agency"])
    counts = row_counts(SpendingReport, AuditEntry)
    bad = client.post(f"{ledger_url(a)}/spending", data={
        "community": community.id, "quarter": 1, f"amount_{category.value}": "很多"})
    assert bad.status_code == 200 and "无法识别的金额" in _text(bad)
    nothing = client.post(f"{ledger_url(a)}/spending", data={"community": community.id,
                                                             "quarter": 1})
    assert "请至少填写一个科目的支出。" in _text(nothing)
    assert row_counts(SpendingReport, AuditEntry) == counts
    over = budget[category] + 100
    assert client.post(f"{ledger_url(a)}/spending", data={
        "community": community.id, "quarter": 1,
        f"amount_{category.value}": f"{over / 100:.2f}".translate(FULL_WIDTH),
        "note": "按财务账簿汇总"}).status_code == 302
    report = db.session.scalar(sa.select(SpendingReport))
    assert (report.category, report.actual_fen, report.quarter) == (category, over, 1)
    page = _text(client.get(ledger_url(a)))
    execution = page[page.index('id="execution"'):]
    assert "超预算" in execution and BudgetCategory(category).label in execution
    # Only the agency reports: the contract manager has no form and may not post.
    manager = sign_in(a["manager"])
    assert f"{ledger_url(a)}/spending" not in _text(manager.get(ledger_url(a)))
    assert manager.post(f"{ledger_url(a)}/spending", data={}).status_code == 403


# --- the home to-dos -------------------------------------------------------------------------


def test_each_person_is_told_the_step_that_waits_for_them(accepted, factory, app):
    a, i = accepted, accepted["instalment"]

    def titles(user):
        with app.test_request_context():
            return [t.title for t in todos_for(user)]

    assert any("期拨付可以申请" in t for t in titles(a["manager"]))
    assert any("经费使用情况待报告" in t for t in titles(a["agency"]))
    both = factory.user(Role.CONTRACT_MANAGER, Role.LEADER,
                        org=a["agreement"].cooperation.street_office)
    services.request(both, i)
    assert not any("期拨付可以申请" in t for t in titles(a["manager"]))
    assert any("待审批" in t for t in titles(a["leader"]))
    assert not any("待审批" in t for t in titles(both))  # never their own request
    services.approve(a["leader"], i)
    assert any("待登记拨付" in t for t in titles(a["finance"]))
    assert not any("待登记拨付" in t for t in titles(a["leader"]))
    services.pay(a["finance"], i, paid_on=clock.today(), voucher_no="LY-1")
    assert not any("拨付" in t for t in titles(a["finance"]))
