"""Instalments and the ledger of an agreement: the figures of `disbursements.ledger`, each
account only where `can_view_account` allows (a committee sees its own community's)."""
from procurement.accounts.roles import Role
from procurement.api import ApiError, bp, int_arg, load, money, respond, stamp, who
from procurement.api import spec as s
from procurement.contracts.models import Agreement
from procurement.core.permissions import allow
from procurement.disbursements import ledger
from procurement.disbursements.permissions import can_view_account, can_view_disbursements

READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER, Role.AUDITOR)

INSTALMENT = s.obj(id=s.integer(), number=s.integer(), quarter=s.integer(nullable=True),
                   due_date=s.string("date"), state=s.string(), state_label=s.string(),
                   scheduled=s.MONEY, payable=s.MONEY_OR_NULL, paid=s.MONEY,
                   withheld=s.MONEY, outstanding=s.MONEY, grade=s.string(nullable=True))
ACCOUNT = s.obj(id=s.integer(), community_id=s.integer(nullable=True),
                community=s.string(nullable=True), special=s.boolean(), limit=s.MONEY,
                scheduled=s.MONEY, paid=s.MONEY, withheld=s.MONEY, remaining=s.MONEY,
                reconciles=s.boolean(), instalments=s.array(INSTALMENT))


def _instalment(row: ledger.Row) -> dict:
    i = row.instalment
    return {"id": i.id, "number": i.number, "quarter": i.quarter, "due_date": stamp(i.due_date),
            "state": i.state.value, "state_label": i.state.label,
            "scheduled": money(row.scheduled), "payable": money(row.payable),
            "paid": money(row.paid), "withheld": money(row.withheld),
            "outstanding": money(row.outstanding), "grade": i.grade.value if i.grade else None}


def _account(book: ledger.AccountLedger) -> dict:
    account = book.account
    return {"id": account.id, "community_id": account.community_id,
            "community": account.community.name if account.community else None,
            "special": account.special_agreement_id is not None,
            "limit": money(account.limit_fen), "scheduled": money(book.scheduled),
            "paid": money(book.paid), "withheld": money(book.withheld),
            "remaining": money(book.remaining), "reconciles": book.reconciles(),
            "instalments": [_instalment(r) for r in book.rows]}


@bp.route("/agreements/<int:agreement_id>/ledger")
@allow(*READERS)
@s.operation("协议的拨付台账（各账户及分期）", s.obj(data=s.obj(agreement_id=s.integer(),
                                                      accounts=s.array(ACCOUNT))),
             tag="拨付", params=(s.COMMUNITY,))
def agreement_ledger(agreement_id: int):
    user = who()
    agreement = load(Agreement, agreement_id)
    if not can_view_disbursements(user, agreement):
        raise ApiError(404, "要查找的记录不存在。")
    community_id = int_arg("community_id")
    books = [b for b in ledger.ledger(agreement) if can_view_account(user, b.account)
             and (community_id is None or b.account.community_id == community_id)]
    return respond({"data": {"agreement_id": agreement.id,
                             "accounts": [_account(b) for b in books]}})
