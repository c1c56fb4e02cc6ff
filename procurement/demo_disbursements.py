"""The Lingyuan demo, payments: 400,000 yuan per community for the first year in four
100,000-yuan instalments, and the typhoon survey's 30,000 yuan once it ended, each requested by the contract manager once its quarter was
accepted, approved by the street office's leader and paid by the finance office with a
voucher number. 灵水's second quarter was graded 基本合格: 90% was paid and 10,000 yuan
withheld until its rectification was accepted, then released. The agency reports its
spending per budget line every quarter. Called by `demo.load_demo(work=True)` after the
evaluations; idempotent."""
from datetime import date, datetime

import sqlalchemy as sa

from procurement.accounts.models import User
from procurement.contracts.models import BudgetLine, Cooperation
from procurement.contracts.rules import quarters
from procurement.core import clock
from procurement.core.calendar import SHANGHAI, add_working_days
from procurement.core.money import split_evenly
from procurement.disbursements import schedule, services, spending
from procurement.disbursements.models import SpendingReport
from procurement.disbursements.states import InstalmentState
from procurement.extensions import db

RELEASE = ("整改验收合格：补充了社区活动记录，网格事件反馈时效已达标。", 25)  # working days later


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def load_disbursements(cooperation_number: str) -> bool:
    cooperation = db.session.scalar(sa.select(Cooperation).where(
        Cooperation.number == cooperation_number))
    if cooperation is None or not cooperation.agreements:
        return False
    agreement = cooperation.agreements[0]
    accounts = schedule.accounts_of(agreement)
    if db.session.scalar(sa.select(sa.func.count()).select_from(SpendingReport).where(
            SpendingReport.agreement_id == agreement.id)):
        return False
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    manager, leader, finance, agency = (users[n] for n in ("hetong", "lingdao", "caiwu", "cishan"))
    vouchers = iter(range(1, 1000))
    for account in accounts:
        for instalment in account.instalments:
            _pay(instalment, manager, leader, finance, vouchers)
            if instalment.quarter:
                _report_spending(agency, agreement, account.community, instalment.quarter)
    db.session.flush()
    return True


def _pay(instalment, manager, leader, finance, vouchers) -> None:
    account = instalment.account
    agreement = account.agreement
    end = (account.special.end_date if account.special_agreement_id else
           quarters(agreement.start_date, agreement.end_date)[instalment.quarter - 1].end)
    with clock.frozen(_at(add_working_days(end, 14))):
        services.request(manager, instalment)
    with clock.frozen(_at(add_working_days(end, 15), 15)):
        services.approve(leader, instalment)
    with clock.frozen(_at(add_working_days(end, 17), 11)):
        services.pay(finance, instalment, paid_on=clock.today(),
                     voucher_no=f"LYJD-2016-{next(vouchers):03d}")
    if instalment.withheld_fen:
        reason, days = RELEASE
        with clock.frozen(_at(add_working_days(end, days + 17), 11)):
            services.release(finance, instalment, amount_fen=instalment.withheld_fen,
                             paid_on=clock.today(), voucher_no=f"LYJD-2016-{next(vouchers):03d}",
                             reason=reason)
    assert instalment.state is InstalmentState.PAID


def _report_spending(agency, agreement, community, quarter: int) -> None:
    """Each budget line spent at about a quarter of its year, the activities a little over
    in the summer (the activities line is flagged on the ledger)."""
    lines = db.session.scalars(sa.select(BudgetLine).where(
        BudgetLine.agreement_id == agreement.id, BudgetLine.community_id == community.id))
    amounts = {}
    for line in lines:
        share = split_evenly(line.amount_fen, 4)[quarter - 1]
        if line.category.value == "activities" and community.name == "林口社区":
            share = share * 13 // 10
        amounts[line.category] = share
    end = quarters(agreement.start_date, agreement.end_date)[quarter - 1].end
    with clock.frozen(_at(add_working_days(end, 5), 16)):
        spending.report(agency, agreement, community, quarter, amounts, note="按财务账簿汇总。")
