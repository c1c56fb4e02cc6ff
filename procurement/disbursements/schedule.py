"""The schedule (拨付计划): for each community of an annual agreement in force, four quarterly
instalments adding up exactly to its amount (the last absorbs the fen), due a set number of
working days after the quarter; a special-service agreement gets one instalment after it
ends. An amendment that changes a community's amount re-plans the instalments not yet
requested, with the change written on them and in the audit trail."""
import sqlalchemy as sa
from flask import current_app

from procurement.audit import record
from procurement.contracts.models import Agreement, SpecialAgreement
from procurement.contracts.rules import quarters
from procurement.contracts.states import DocumentState
from procurement.core.calendar import add_working_days
from procurement.core.errors import DomainError
from procurement.core.money import format_fen, split_evenly
from procurement.core.states import lock_for_update
from procurement.disbursements.models import Account, Instalment
from procurement.disbursements.states import InstalmentState
from procurement.extensions import db

QUARTERS_A_YEAR = 4


def due_after(day):
    return add_working_days(day, current_app.config["DISBURSEMENT_DUE_WORKING_DAYS"])


def accounts_of(agreement: Agreement) -> list[Account]:
    return list(db.session.scalars(sa.select(Account).where(Account.agreement_id == agreement.id)
                                   .order_by(Account.community_id, Account.id)))


def schedule(actor, agreement: Agreement) -> list[Account]:
    """Create the agreement's accounts and instalments that do not exist yet (idempotent):
    one account per community with four instalments, one per special agreement in force."""
    if agreement.state is not DocumentState.IN_FORCE:
        raise DomainError("协议生效后才能生成拨付计划。")
    existing = accounts_of(agreement)
    have = {a.community_id for a in existing if a.community_id}
    have_special = {a.special_agreement_id for a in existing if a.special_agreement_id}
    created = []
    periods = quarters(agreement.start_date, agreement.end_date)
    for row in agreement.communities:
        if row.community_id in have:
            continue
        account = Account(agreement_id=agreement.id, community_id=row.community_id,
                          limit_fen=row.amount_fen, paid_fen=0)
        for period, amount in zip(periods, split_evenly(row.amount_fen, len(periods))):
            account.instalments.append(Instalment(
                number=period.number, quarter=period.number, amount_fen=amount,
                due_date=due_after(period.end), state=InstalmentState.SCHEDULED))
        created.append(account)
    for special in db.session.scalars(sa.select(SpecialAgreement).where(
            SpecialAgreement.agreement_id == agreement.id,
            SpecialAgreement.state == DocumentState.IN_FORCE)):
        if special.id in have_special:
            continue
        account = Account(agreement_id=agreement.id, special_agreement_id=special.id,
                          limit_fen=special.amount_fen, paid_fen=0)
        account.instalments.append(Instalment(number=1, amount_fen=special.amount_fen,
                                              due_date=due_after(special.end_date),
                                              state=InstalmentState.SCHEDULED))
        created.append(account)
    if not created:
        return existing
    db.session.add_all(created)
    db.session.flush()
    for account in created:
        record(actor, "disbursement.schedule", account, None,
               {"limit_fen": account.limit_fen,
                "instalments": [i.amount_fen for i in account.instalments]},
               label=account_label(account))
    return accounts_of(agreement)


def replan(actor, agreement: Agreement, reason: str) -> list[Account]:
    """Bring the accounts in line with the agreement's amounts after an amendment: the new
    limit, and the instalments not yet requested re-split so the schedule still adds up."""
    changed = []
    amounts = {row.community_id: row.amount_fen for row in agreement.communities}
    for account in accounts_of(agreement):
        if account.community_id is None or amounts.get(account.community_id) == account.limit_fen:
            continue
        lock_for_update(account)
        new_limit = amounts[account.community_id]
        fixed = sum(i.amount_fen for i in account.instalments
                    if i.state not in (InstalmentState.SCHEDULED, InstalmentState.CANCELLED))
        open_ones = [i for i in account.instalments if i.state is InstalmentState.SCHEDULED]
        if new_limit < max(fixed, account.paid_fen) or (new_limit > fixed and not open_ones):
            raise DomainError(f"{account.community.name}的新金额 {format_fen(new_limit)} 与已申请、"
                              f"已拨付的 {format_fen(fixed)} 无法衔接，请先处理在途的拨付。")
        before = {"limit_fen": account.limit_fen,
                  "instalments": {i.number: i.amount_fen for i in account.instalments}}
        for instalment, amount in zip(open_ones, split_evenly(new_limit - fixed,
                                                               len(open_ones)) if open_ones else []):
            instalment.amount_fen = amount
            instalment.note = reason
        account.limit_fen = new_limit
        changed.append(account)
        db.session.flush()
        record(actor, "disbursement.replan", account, before,
               {"limit_fen": new_limit, "reason": reason,
                "instalments": {i.number: i.amount_fen for i in account.instalments}},
               label=account_label(account))
    return changed


def account_label(account: Account) -> str:
    agreement = account.agreement or db.session.get(Agreement, account.agreement_id)
    if account.special_agreement_id:
        special = account.special or db.session.get(SpecialAgreement, account.special_agreement_id)
        return f"{agreement.number} 专项：{special.title}"
    community = account.community
    return f"{agreement.number} {community.name if community else ''}"
