"""Home-page to-dos of the disbursements: the contract manager's instalments whose quarter
is accepted and can be requested; requests waiting for approval (never shown to the one who
requested them); approved instalments waiting for the finance officer's payment; and the
agency's spending report for the last ended quarter, when it is missing."""
from collections import defaultdict

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, AgreementCommunity, Cooperation
from procurement.contracts.rules import quarters
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.disbursements import services
from procurement.disbursements.models import Account, Instalment, SpendingReport
from procurement.disbursements.states import InstalmentState as S
from procurement.disbursements.voucher import quarter_of
from procurement.extensions import db
from procurement.home.todos import Todo, provides


def _office_instalments(user, *states):
    """Instalments in these states of the agreements of the user's street office."""
    return (sa.select(Instalment)
            .join(Account, Account.id == Instalment.account_id)
            .join(Agreement, Agreement.id == Account.agreement_id)
            .join(Cooperation, Cooperation.id == Agreement.cooperation_id)
            .where(Cooperation.street_office_id == user.org_id, Instalment.state.in_(states))
            .options(joinedload(Instalment.account).options(
                joinedload(Account.agreement), joinedload(Account.community),
                joinedload(Account.special)))
            .order_by(Instalment.due_date, Instalment.id))


def _by_agreement(instalments) -> list[tuple[Agreement, list[Instalment]]]:
    groups = defaultdict(list)
    for i in instalments:
        groups[i.account.agreement].append(i)
    return list(groups.items())


def _link(agreement, group) -> str:
    if len(group) == 1:
        return url_for("disbursements.instalment", instalment_id=group[0].id)
    return url_for("disbursements.agreement", agreement_id=agreement.id)


def _names(group) -> str:
    names = [services.label(i).removeprefix(f"{i.account.agreement.number} ") for i in group[:3]]
    return "、".join(names) + (_("等") if len(group) > 3 else "")


@provides(Role.CONTRACT_MANAGER)
def request_todos(user) -> list[Todo]:
    """Scheduled instalments whose quarter has ended and been accepted (the acceptance
    rule is the service's own), so they can be requested now."""
    today = clock.today()
    query = _office_instalments(user, S.SCHEDULED).where(
        Agreement.state == DocumentState.IN_FORCE)
    ended = []
    for i in db.session.scalars(query).unique():
        quarter = quarter_of(i)
        if quarter is not None and quarter.end >= today:
            continue  # the quarter is still running
        ended.append(i)
    accepted = services.acceptances(ended)  # read together, not per instalment
    ready = [i for i in ended if accepted[i.id][0] is None]
    return [Todo(_("%(n)s 期拨付可以申请（季度评估已确定）", n=len(group)), _link(agreement, group),
                 _("%(agreement)s：%(names)s", agreement=str(agreement), names=_names(group)),
                 due=group[0].due_date, urgent=group[0].due_date <= today)
            for agreement, group in _by_agreement(ready)]


@provides(Role.FINANCE_OFFICER, Role.LEADER)
def approval_todos(user) -> list[Todo]:
    query = _office_instalments(user, S.REQUESTED).where(Instalment.requested_by_id != user.id)
    return [Todo(_("%(n)s 期拨付申请待审批", n=len(group)), _link(agreement, group),
                 _("%(agreement)s：%(names)s", agreement=str(agreement), names=_names(group)),
                 due=group[0].due_date)
            for agreement, group in _by_agreement(db.session.scalars(query).unique())]


@provides(Role.FINANCE_OFFICER)
def payment_todos(user) -> list[Todo]:
    today = clock.today()
    query = _office_instalments(user, S.APPROVED)
    return [Todo(_("%(n)s 期拨付已审批，待登记拨付", n=len(group)), _link(agreement, group),
                 _("%(agreement)s：%(names)s", agreement=str(agreement), names=_names(group)),
                 due=group[0].due_date, urgent=group[0].due_date <= today)
            for agreement, group in _by_agreement(db.session.scalars(query).unique())]


@provides(Role.AGENCY_STAFF)
def spending_todos(user) -> list[Todo]:
    """For each agreement in force of the agency: the communities without a spending
    report for the last quarter that has ended."""
    today = clock.today()
    agreements = db.session.scalars(
        sa.select(Agreement).join(Cooperation, Cooperation.id == Agreement.cooperation_id)
        .where(Cooperation.agency_id == user.org_id, Agreement.state == DocumentState.IN_FORCE,
               Agreement.start_date <= today)
        .order_by(Agreement.start_date)).all()
    wanted = {}
    for agreement in agreements:
        ended = [q for q in quarters(agreement.start_date, agreement.end_date) if q.end < today]
        if ended:
            wanted[agreement.id] = (agreement, ended[-1])
    if not wanted:
        return []
    reported = {tuple(row) for row in db.session.execute(
        sa.select(SpendingReport.agreement_id, SpendingReport.community_id, SpendingReport.quarter)
        .where(SpendingReport.agreement_id.in_(wanted)).distinct())}
    communities = defaultdict(list)
    for row in db.session.scalars(sa.select(AgreementCommunity).where(
            AgreementCommunity.agreement_id.in_(wanted))):
        communities[row.agreement_id].append(row.community)
    items = []
    for agreement_id, (agreement, quarter) in wanted.items():
        missing = [c for c in communities[agreement_id]
                   if (agreement_id, c.id, quarter.number) not in reported]
        if missing:
            names = "、".join(c.name for c in missing[:3]) + (_("等") if len(missing) > 3 else "")
            items.append(Todo(
                _("%(quarter)s经费使用情况待报告（%(n)s 个社区）", quarter=quarter.label,
                  n=len(missing)),
                url_for("disbursements.agreement", agreement_id=agreement_id,
                        _anchor="execution"),
                _("%(agreement)s：%(communities)s", agreement=str(agreement), communities=names)))
    return items
