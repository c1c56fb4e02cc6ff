"""The payment voucher (拨付单) of one payment or release, gathered for
templates/pdf/payment_voucher.html: the parties, the community (or special agreement), the
quarter, the grade and how the payable was computed, the amount in figures and in 大写, the
voucher number, and who requested, approved and recorded it, when.

A fixed handful of queries: the movement with its instalment, account, agreement,
cooperation and organisations, and the people. The route decides who may print it
(permissions.can_view_account)."""
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from procurement.contracts.models import Agreement, Cooperation
from procurement.contracts.rules import quarters
from procurement.core.money import format_fen, from_fen, in_words
from procurement.core.numbers import format_percent
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.schedule import account_label
from procurement.disbursements.states import MovementKind
from procurement.extensions import db


def money(fen: int) -> dict:
    return {"fen": fen, "text": format_fen(fen), "words": in_words(from_fen(abs(fen)))}


def load_movement(movement_id: int) -> Movement | None:
    return db.session.scalar(
        sa.select(Movement).where(Movement.id == movement_id).options(
            joinedload(Movement.recorded_by),
            joinedload(Movement.instalment).options(
                joinedload(Instalment.requested_by), joinedload(Instalment.approved_by),
                joinedload(Instalment.account).options(
                    joinedload(Account.community), joinedload(Account.special),
                    joinedload(Account.agreement).joinedload(Agreement.cooperation).options(
                        joinedload(Cooperation.street_office), joinedload(Cooperation.agency))))))


def quarter_of(instalment: Instalment):
    """The agreement quarter the instalment follows (None for a special agreement)."""
    if instalment.quarter is None:
        return None
    agreement = instalment.account.agreement
    found = [q for q in quarters(agreement.start_date, agreement.end_date)
             if q.number == instalment.quarter]
    return found[0] if found else None


def voucher_context(movement: Movement) -> dict:
    instalment = movement.instalment
    account = instalment.account
    agreement = account.agreement
    cooperation = agreement.cooperation
    quarter = quarter_of(instalment)
    reversal = None
    if movement.reversed:
        reversal = db.session.scalar(sa.select(Movement).where(Movement.reverses_id == movement.id)
                                     .options(joinedload(Movement.recorded_by)))
    return {
        "movement": movement,
        "kind": movement.kind.label,
        "is_release": movement.kind is MovementKind.RELEASE,
        "instalment": instalment,
        "agreement": agreement,
        "cooperation": cooperation,
        "payer": cooperation.street_office,
        "payee": cooperation.agency,
        "account_label": account_label(account),
        "community": account.community,
        "special": account.special,
        "quarter": quarter,
        "grade": instalment.grade.label if instalment.grade else None,
        "share": format_percent(instalment.share) if instalment.share is not None else None,
        "amount": money(movement.amount_fen),
        "scheduled": money(instalment.amount_fen),
        "payable": money(instalment.payable_fen) if instalment.payable_fen is not None else None,
        "withheld": money(instalment.withheld_fen) if instalment.withheld_fen else None,
        "reversal": reversal,
    }


def voucher_filename(movement: Movement) -> str:
    return f"拨付单-{movement.voucher_no}.pdf"
