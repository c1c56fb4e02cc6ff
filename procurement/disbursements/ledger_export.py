"""The street office's whole ledger (拨付台账) as one streamed table: every instalment of
every account the user reads (the disbursements list's scoping), across agreements, with
the same figures as each agreement's ledger (cancelled instalments left out, paid = the sum
of the movements, withheld only once paid or withheld, outstanding = scheduled − paid −
withheld).

One SELECT read in batches from a server-side cursor (`yield_per`): plain columns, never
ORM objects, so nothing accumulates in the session and no row triggers another query.
Reading only."""
import functools
from collections.abc import Iterator

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from procurement.accounts.models import User
from procurement.contracts.models import Agreement, Cooperation, SpecialAgreement
from procurement.contracts.rules import quarters
from procurement.core.money import from_fen
from procurement.core.numbers import percent_number
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.permissions import visible_account_condition
from procurement.disbursements.states import InstalmentState as S
from procurement.extensions import db
from procurement.orgs.models import Community, Organisation
from procurement.tasks.permissions import visible_agreements

BATCH = 1000


def headers() -> list[str]:
    return [_("协议编号"), _("承接机构"), _("账户"), _("期次"), _("季度"), _("到期日"),
            _("计划金额（元）"), _("评估等级"), _("拨付比例"), _("应拨金额（元）"),
            _("已拨金额（元）"), _("暂扣金额（元）"), _("未拨金额（元）"), _("状态"), _("申请人"),
            _("申请时间"), _("审批人"), _("审批时间")]


def statement(user) -> sa.Select:
    """The instalments the user reads, in the list's order (newest agreement first), then
    each agreement's ledger order (community accounts, then special agreements)."""
    # Per instalment through its index, so a street office's export does not sum the
    # whole city's movements.
    paid = (sa.select(sa.func.coalesce(sa.func.sum(Movement.amount_fen), 0))
            .where(Movement.instalment_id == Instalment.id).scalar_subquery())
    agency = aliased(Organisation)
    requester, approver = aliased(User), aliased(User)
    withheld = sa.case((Instalment.state.in_((S.PAID, S.WITHHELD)), Instalment.withheld_fen),
                       else_=0)
    # The accounts the user reads, found first (a handful for a street office) and joined
    # to their instalments through the index. MATERIALIZED keeps PostgreSQL from folding
    # the scoping into the big join, where it hashed every instalment of the city before
    # filtering (50 ms instead of 1 ms for a street office at 2,000 communities).
    accounts = (sa.select(Account.id).where(
        visible_account_condition(user),
        Account.agreement_id.in_(visible_agreements(user).with_only_columns(Agreement.id)))
        .cte("visible_accounts").prefix_with("MATERIALIZED", dialect="postgresql"))
    return (
        sa.select(Agreement.number, Agreement.start_date, Agreement.end_date, agency.name,
                  Community.name, SpecialAgreement.title, Instalment.number, Instalment.quarter,
                  Instalment.due_date, Instalment.amount_fen, Instalment.grade, Instalment.share,
                  Instalment.payable_fen, paid, withheld,
                  Instalment.state, requester.name, Instalment.requested_at, approver.name,
                  Instalment.approved_at)
        .select_from(accounts)
        .join(Instalment, Instalment.account_id == accounts.c.id)
        .join(Account, Account.id == Instalment.account_id)
        .join(Agreement, Agreement.id == Account.agreement_id)
        .join(Cooperation, Cooperation.id == Agreement.cooperation_id)
        .join(agency, agency.id == Cooperation.agency_id)
        .outerjoin(Community, Community.id == Account.community_id)
        .outerjoin(SpecialAgreement, SpecialAgreement.id == Account.special_agreement_id)
        .outerjoin(requester, requester.id == Instalment.requested_by_id)
        .outerjoin(approver, approver.id == Instalment.approved_by_id)
        .where(Instalment.state != S.CANCELLED)
        .order_by(Agreement.start_date.desc(), Agreement.id.desc(),
                  Account.community_id.is_(None), Account.community_id, Account.id,
                  Instalment.number))


def _yuan(fen):
    return None if fen is None else from_fen(int(fen))


def rows(user) -> Iterator[list]:
    """The table's rows, fetched `BATCH` at a time. Labels are translated once per value,
    not once per row."""
    quarter_labels: dict[tuple, dict[int, str]] = {}
    special_label = _("专项")

    @functools.cache  # per export: the request's language
    def label(value):
        return None if value is None else value.label

    @functools.cache
    def percent(share):
        return None if share is None else f"{percent_number(share)}%"

    result = db.session.execute(statement(user).execution_options(yield_per=BATCH))
    for (number, start, end, agency, community, special, instalment_no, quarter, due,
         scheduled, grade, share, payable, paid, withheld, state, requester, requested_at,
         approver, approved_at) in result:
        labels = quarter_labels.get((start, end))
        if labels is None:
            labels = quarter_labels[(start, end)] = {q.number: q.label
                                                     for q in quarters(start, end)}
        account = (f"{number} {community}" if community is not None
                   else f"{number} {special_label}：{special}")
        scheduled, paid, withheld = int(scheduled), int(paid), int(withheld)
        yield [number, agency, account, instalment_no,
               labels.get(quarter, "") if quarter is not None else special_label, due,
               _yuan(scheduled), label(grade), percent(share), _yuan(payable),
               _yuan(paid), _yuan(withheld), _yuan(scheduled - paid - withheld),
               label(state), requester, requested_at, approver, approved_at]
