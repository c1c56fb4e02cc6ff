"""The disbursement workflow (RULES.md "Purchase of services and payment"): an instalment is
requested by the contract manager only after its quarter is accepted (the self-assessment
accepted and the evaluation finalised with the residents' survey in it); the payable share
follows the quarter's grade by the agreement's rule; a finance officer or leader who did not
request it approves; the finance officer records the payment (date and voucher) or
withholds, in part or whole, with a reason; withheld money is released after rectification,
with a reason; a payment is never edited, only reversed by a recorded correction. Every
movement updates the account under a row lock, and the database refuses a second standing
payment of one instalment and any total over the account's limit."""
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.audit import record, snapshot
from procurement.contracts.models import Agreement, SpecialAgreement
from procurement.contracts.states import DocumentState, EvaluationSource as Src, Grade
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.core.money import format_fen
from procurement.core.states import lock_for_update
from procurement.disbursements.models import Account, Instalment, Movement, PaymentRule
from procurement.disbursements.schedule import account_label
from procurement.disbursements.states import INSTALMENT, InstalmentState as S, MovementKind
from procurement.evaluations import plan
from procurement.evaluations.models import EvaluationSheet, PeriodResult
from procurement.evaluations.states import PeriodKind, SheetState
from procurement.extensions import db

INSTALMENT_FIELDS = ("state", "amount_fen", "grade", "share", "payable_fen", "withheld_fen",
                     "withhold_reason")
DEFAULT_SHARES = {Grade.EXCELLENT: Decimal(1), Grade.GOOD: Decimal(1),
                  Grade.PASS: Decimal("0.9"), Grade.FAIL: Decimal(0)}
APPROVERS = (Role.FINANCE_OFFICER, Role.LEADER)


# --- the performance rule ----------------------------------------------------------------


def shares_of(agreement: Agreement) -> dict[Grade, Decimal]:
    rule = db.session.get(PaymentRule, agreement.id)
    if rule is None:
        return dict(DEFAULT_SHARES)
    return {Grade(k): Decimal(str(v)) for k, v in rule.shares.items()}


def set_rule(actor, agreement: Agreement, shares: dict[Grade, Decimal]) -> PaymentRule:
    _require_office(actor, agreement, (Role.CONTRACT_MANAGER,), "设置拨付规则")
    if set(shares) != set(Grade):
        raise DomainError("请为每个等级设置拨付比例。", field="shares")
    if any(not (0 <= s <= 1) or s != s.quantize(Decimal("0.01")) for s in shares.values()):
        raise DomainError("拨付比例应在 0 至 100% 之间，最多两位小数的百分比。", field="shares")
    order = [shares[g] for g in (Grade.EXCELLENT, Grade.GOOD, Grade.PASS, Grade.FAIL)]
    if order != sorted(order, reverse=True):
        raise DomainError("等级越低，拨付比例不能越高。", field="shares")
    started = db.session.scalar(sa.select(sa.func.count()).select_from(Instalment).join(Account)
                                .where(Account.agreement_id == agreement.id,
                                       Instalment.state != S.SCHEDULED))
    if started:
        raise DomainError("本协议已有拨付申请，拨付规则不能再修改。")
    rule = db.session.get(PaymentRule, agreement.id)
    before = rule.shares if rule else {g.value: str(s) for g, s in DEFAULT_SHARES.items()}
    if rule is None:
        rule = PaymentRule(agreement_id=agreement.id, shares={})
        db.session.add(rule)
    rule.shares = {g.value: str(s) for g, s in shares.items()}
    db.session.flush()
    record(actor, "disbursement.rule", agreement, {"shares": before}, {"shares": rule.shares})
    return rule


# --- who, and the acceptance gate ------------------------------------------------------------


def _require_office(actor, agreement: Agreement, roles, action: str) -> None:
    if not (actor.has_role(*roles) and actor.org_id == agreement.cooperation.street_office_id):
        names = "、".join(str(r.label) for r in roles)
        raise DomainError(f"只有本街道的{names}可以{action}。")


def acceptance(instalment: Instalment) -> tuple[str | None, object]:
    """Why the instalment cannot be requested yet (None when it can), and the quarter's
    result. A quarter is accepted when the agency's self-assessment was accepted and the
    street office finalised the evaluation with the residents' survey in it."""
    return acceptances([instalment])[instalment.id]


def acceptances(instalments) -> dict[int, tuple[str | None, object]]:
    """`acceptance` of many instalments, read together (a few queries whatever their
    number): the periods of each agreement, then every self-assessment and result."""
    found: dict[int, tuple[str | None, object]] = {}
    quarterly = []
    for instalment in instalments:
        account = instalment.account
        if not account.special_agreement_id:
            quarterly.append(instalment)
            continue
        special = db.session.get(SpecialAgreement, account.special_agreement_id)
        if special.state is not DocumentState.IN_FORCE:
            found[instalment.id] = ("专项服务合作协议未生效。", None)
        elif clock.today() <= special.end_date:
            found[instalment.id] = (f"专项服务于 {special.end_date} 结束后才能申请拨付。", None)
        else:
            found[instalment.id] = (None, None)
    if not quarterly:
        return found
    periods = {}
    for agreement in {i.account.agreement_id: i.account.agreement for i in quarterly}.values():
        for period in plan.periods(agreement):
            if period.kind is PeriodKind.QUARTER:
                periods[agreement.id, period.number] = period
    period_ids = [p.id for p in periods.values()]
    community_ids = list({i.account.community_id for i in quarterly})
    # Each self-assessment with its period's result, when there is one (a result without
    # an accepted self-assessment does not make an instalment requestable anyway).
    own, results = {}, {}
    for sheet, result in db.session.execute(
            sa.select(EvaluationSheet, PeriodResult)
            .outerjoin(PeriodResult, sa.and_(PeriodResult.period_id == EvaluationSheet.period_id,
                                             PeriodResult.community_id == EvaluationSheet.community_id))
            .where(EvaluationSheet.period_id.in_(period_ids),
                   EvaluationSheet.community_id.in_(community_ids),
                   EvaluationSheet.source == Src.SELF)):
        own[sheet.period_id, sheet.community_id] = sheet
        if result is not None:
            results[result.period_id, result.community_id] = result
    for instalment in quarterly:
        account = instalment.account
        period = periods[account.agreement_id, instalment.quarter]
        sheet = own.get((period.id, account.community_id))
        result = results.get((period.id, account.community_id))
        if sheet is None or sheet.state is not SheetState.ACCEPTED:
            found[instalment.id] = (f"{period.label}机构自评尚未通过审核。", None)
        elif result is None:
            found[instalment.id] = (f"{period.label}评估结果尚未确定。", None)
        elif not any(line["source"] == Src.RESIDENTS.value for line in result.breakdown):
            found[instalment.id] = (f"{period.label}评估结果未计入居民满意度调查，不能作为拨付依据。",
                                    result)
        else:
            found[instalment.id] = (None, result)
    return found


def payable(amount_fen: int, share: Decimal) -> int:
    return int((Decimal(amount_fen) * share).quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --- the workflow ----------------------------------------------------------------------------


def _step(actor, instalment: Instalment, target: S, action: str, apply) -> Instalment:
    INSTALMENT.check(instalment, target, action)
    before = snapshot(instalment, *INSTALMENT_FIELDS)
    apply()
    INSTALMENT.move(instalment, target, action)
    db.session.flush()
    record(actor, f"disbursement.{target.value}", instalment, before,
           snapshot(instalment, *INSTALMENT_FIELDS), label=label(instalment))
    return instalment


def request(actor, instalment: Instalment) -> Instalment:
    agreement = instalment.account.agreement
    _require_office(actor, agreement, (Role.CONTRACT_MANAGER,), "申请拨付")
    INSTALMENT.check(instalment, S.REQUESTED, "申请拨付")
    block, result = acceptance(instalment)
    if block:
        raise DomainError(block)

    def apply():
        if result is None:  # a special agreement: paid in full once it ended
            instalment.share, instalment.grade = Decimal(1), None
            instalment.payable_fen = instalment.amount_fen
            instalment.computation = f"专项服务已结束，全额拨付 {format_fen(instalment.amount_fen)}。"
        else:
            share = shares_of(agreement)[result.grade]
            instalment.grade, instalment.share = result.grade, share
            instalment.payable_fen = payable(instalment.amount_fen, share)
            instalment.computation = (
                f"{result.period.label}综合得分 {result.composite} 分，等级“{result.grade.label}”，"
                f"按 {(share * 100).normalize():f}% 拨付：{format_fen(instalment.amount_fen)} × "
                f"{(share * 100).normalize():f}% = {format_fen(instalment.payable_fen)}。")
        withheld = instalment.amount_fen - instalment.payable_fen
        instalment.withheld_fen = withheld
        instalment.withhold_reason = (
            f"等级“{result.grade.label}”，暂扣 {format_fen(withheld)}，整改验收合格后可补拨。"
            if withheld else None)
        instalment.requested_by_id, instalment.requested_at = actor.id, clock.now()

    return _step(actor, instalment, S.REQUESTED, "申请拨付", apply)


def approve(actor, instalment: Instalment) -> Instalment:
    _require_office(actor, instalment.account.agreement, APPROVERS, "审批拨付")
    if actor.id == instalment.requested_by_id:
        raise DomainError("审批人不能是申请人本人。")

    # Only a requested instalment is approved: PAID -> APPROVED is the reversal's move, and
    # an approval clicked on a paid instalment would open it to a second payment.
    INSTALMENT.require_in(instalment, (S.REQUESTED,), "审批")

    def apply():
        instalment.approved_by_id, instalment.approved_at = actor.id, clock.now()

    return _step(actor, instalment, S.APPROVED, "审批", apply)


def _voucher(voucher_no: str) -> str:
    voucher_no = (voucher_no or "").strip()
    if not voucher_no:
        raise DomainError("请填写拨付凭证号。", field="voucher_no")
    return voucher_no[:40]


def _paid_on(paid_on: date) -> date:
    if paid_on is None:
        raise DomainError("请填写拨付日期。", field="paid_on")
    if paid_on > clock.today():
        raise DomainError("拨付日期不能晚于今天。", field="paid_on")
    return paid_on


def _move_money(actor, instalment: Instalment, kind: MovementKind, amount_fen: int,
                paid_on: date, voucher_no: str, reason: str | None = None,
                reverses: Movement | None = None) -> Movement:
    """One movement of money: the account row is locked and its total kept; the database
    refuses a total over the limit and a second standing payment of one instalment."""
    account = instalment.account
    lock_for_update(account)
    if account.paid_fen + amount_fen > account.limit_fen:
        raise DomainError(f"本次拨付后累计 {format_fen(account.paid_fen + amount_fen)}，超过协议金额 "
                          f"{format_fen(account.limit_fen)}。")
    movement = Movement(instalment_id=instalment.id, kind=kind, amount_fen=amount_fen,
                        paid_on=paid_on, voucher_no=voucher_no, reason=reason,
                        reverses_id=reverses.id if reverses else None,
                        recorded_by_id=actor.id, recorded_at=clock.now())
    db.session.add(movement)
    account.paid_fen += amount_fen
    db.session.flush()
    return movement


def pay(actor, instalment: Instalment, *, paid_on: date, voucher_no: str,
        amount_fen: int | None = None, reason: str = "") -> Instalment:
    """Record the payment of an approved instalment: the payable amount, or less with a
    reason (the rest is withheld); nothing at all is a withholding (state WITHHELD)."""
    _require_office(actor, instalment.account.agreement, (Role.FINANCE_OFFICER,), "登记拨付")
    INSTALMENT.require_in(instalment, (S.APPROVED,), "登记拨付")
    amount = instalment.payable_fen if amount_fen is None else amount_fen
    reason = (reason or "").strip()
    if not 0 <= amount <= instalment.payable_fen:
        raise DomainError(f"拨付金额应在 0 至 {format_fen(instalment.payable_fen)} 之间。",
                          field="amount")
    if amount < instalment.payable_fen and not reason:
        raise DomainError("少于应拨金额的，须写明暂扣原因。", field="reason")
    if amount == 0:
        return _step(actor, instalment, S.WITHHELD, "暂缓拨付",
                     lambda: _withhold(instalment, instalment.amount_fen, reason))
    paid_on, voucher_no = _paid_on(paid_on), _voucher(voucher_no)

    def apply():
        _move_money(actor, instalment, MovementKind.PAYMENT, amount, paid_on, voucher_no)
        if amount < instalment.payable_fen:
            _withhold(instalment, instalment.amount_fen - amount, reason)

    return _step(actor, instalment, S.PAID, "登记拨付", apply)


def _withhold(instalment: Instalment, withheld_fen: int, reason: str) -> None:
    instalment.withheld_fen = withheld_fen
    if reason:
        instalment.withhold_reason = "；".join(filter(None, (instalment.withhold_reason, reason)))


def release(actor, instalment: Instalment, *, amount_fen: int, paid_on: date, voucher_no: str,
            reason: str) -> Movement:
    """Pay withheld money once the rectification was accepted, with the reason."""
    agreement = instalment.account.agreement
    _require_office(actor, agreement, APPROVERS, "补拨暂扣款")
    INSTALMENT.require_in(instalment, (S.PAID, S.WITHHELD), "补拨暂扣款")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明补拨理由（整改验收情况）。", field="reason")
    if not 0 < amount_fen <= instalment.withheld_fen:
        raise DomainError(f"补拨金额应在 0.01 至 {format_fen(instalment.withheld_fen)} 之间。",
                          field="amount")
    before = snapshot(instalment, *INSTALMENT_FIELDS)
    movement = _move_money(actor, instalment, MovementKind.RELEASE, amount_fen,
                           _paid_on(paid_on), _voucher(voucher_no), reason)
    instalment.withheld_fen -= amount_fen
    db.session.flush()
    record(actor, "disbursement.release", instalment, before,
           {**snapshot(instalment, *INSTALMENT_FIELDS), "released_fen": amount_fen,
            "voucher_no": movement.voucher_no, "reason": reason}, label=label(instalment))
    return movement


def reverse(actor, movement: Movement, *, reason: str, on: date | None = None) -> Movement:
    """Undo a payment or release by a recorded correction; the original stays. A reversed
    payment puts the instalment back to approved, to be paid again correctly."""
    instalment = movement.instalment
    _require_office(actor, instalment.account.agreement, (Role.FINANCE_OFFICER,), "冲正")
    # Lock in the order pay and release do (instalment, then account): taken the other way
    # round a reversal and a release deadlock, and the instalment's withheld amount changes.
    lock_for_update(instalment)
    lock_for_update(movement)
    if movement.kind is MovementKind.REVERSAL or movement.reversed:
        raise DomainError("该笔拨付已冲正，或本身就是冲正记录。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明冲正原因。", field="reason")
    if movement.kind is MovementKind.PAYMENT and db.session.scalar(
            sa.select(Movement.id).where(Movement.instalment_id == instalment.id,
                                         Movement.kind == MovementKind.RELEASE,
                                         Movement.reversed.is_(False)).limit(1)):
        # The payment's withholding was (partly) released: reversing the payment alone
        # would count that release twice when the instalment is paid again.
        raise DomainError("该期已有补拨款，请先冲正补拨，再冲正原拨付。")
    before = snapshot(instalment, *INSTALMENT_FIELDS)
    movement.reversed = True
    db.session.flush()
    correction = _move_money(actor, instalment, MovementKind.REVERSAL, -movement.amount_fen,
                             on or clock.today(), f"冲正-{movement.voucher_no}"[:40], reason,
                             reverses=movement)
    if movement.kind is MovementKind.PAYMENT:
        INSTALMENT.move(instalment, S.APPROVED, "冲正")
        instalment.withheld_fen = instalment.amount_fen - instalment.payable_fen
    else:
        instalment.withheld_fen += movement.amount_fen
    db.session.flush()
    record(actor, "disbursement.reverse", instalment, before,
           {**snapshot(instalment, *INSTALMENT_FIELDS), "reversed_voucher": movement.voucher_no,
            "amount_fen": movement.amount_fen, "reason": reason}, label=label(instalment))
    return correction


def label(instalment: Instalment) -> str:
    return f"{account_label(instalment.account)} 第{instalment.number}期拨付"
