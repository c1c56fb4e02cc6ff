"""Amendments (变更) to an agreement in force, and special-service agreements
(专项服务合作协议) for tasks outside the contract. Both are signed by every party."""
from datetime import date

from procurement.audit import record
from procurement.contracts import rules, signing
from procurement.contracts.models import Agreement, Amendment, SpecialAgreement
from procurement.contracts.services import agreement_snapshot
from procurement.contracts.states import (EDITABLE, BudgetCategory, CooperationState,
                                          DocumentState)
from procurement.core.errors import DomainError
from procurement.core.money import format_fen
from procurement.core.states import lock_for_update
from procurement.disbursements import schedule
from procurement.extensions import db


def _require_in_force(agreement: Agreement, action: str) -> None:
    if agreement.state is not DocumentState.IN_FORCE:
        raise DomainError(f"年度协议生效后才能{action}。")
    if agreement.cooperation.state is not CooperationState.ACTIVE:
        raise DomainError(f"合作当前为“{agreement.cooperation.state.label}”，不能{action}。")


def propose_amendment(actor, agreement: Agreement, *, reason: str, end_date: date,
                      amounts: dict[int, int], budget: dict[int, dict[BudgetCategory, int]]
                      ) -> Amendment:
    """Record what would change, before and after; it applies once every party signs."""
    # Proposals at once take turns and the second sees the first (one open amendment).
    lock_for_update(agreement)
    db.session.expire(agreement, ["amendments"])
    _require_in_force(agreement, "变更")
    if any(a.state in EDITABLE for a in agreement.amendments):
        raise DomainError("已有一份变更在签署中，请先完成或作废它。")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明变更原因。", field="reason")
    coop = agreement.cooperation
    rules.check_agreement_term(agreement.start_date, end_date, coop.start_date, coop.end_date)
    changes = []
    if end_date != agreement.end_date:
        changes.append({"field": "end_date", "label": "协议结束日期",
                        "before": agreement.end_date.isoformat(), "after": end_date.isoformat()})
    for row in agreement.communities:
        name = row.community.name
        lines = budget.get(row.community_id, {})
        known = {line.category for line in agreement.budget_lines
                 if line.community_id == row.community_id}
        if set(lines) - known:
            raise DomainError(f"{name}的预算科目不在协议中，请通过协议的预算科目调整。",
                              field="budget")
        amount = amounts.get(row.community_id, row.amount_fen)
        rules.check_budget(name, amount, lines)
        if amount != row.amount_fen:
            changes.append({"field": f"amount:{row.community_id}", "label": f"{name}年度金额",
                            "before": row.amount_fen, "after": amount,
                            "shown": [format_fen(row.amount_fen), format_fen(amount)]})
        for line in agreement.budget_lines:
            if line.community_id != row.community_id:
                continue
            new = lines.get(line.category, 0)
            if new != line.amount_fen:
                changes.append({"field": f"budget:{row.community_id}:{line.category.value}",
                                "label": f"{name}{line.category.label}",
                                "before": line.amount_fen, "after": new,
                                "shown": [format_fen(line.amount_fen), format_fen(new)]})
    if not changes:
        raise DomainError("没有任何变更内容。", field="reason")
    amendment = Amendment(agreement=agreement, number=len(agreement.amendments) + 1,
                          reason=reason[:5000], changes=changes, state=DocumentState.DRAFT,
                          version=1, created_by_id=getattr(actor, "id", None))
    db.session.add(amendment)
    db.session.flush()
    amendment.content_hash = signing.compute_hash(amendment)
    db.session.flush()
    record(actor, "amendment.create", amendment, None,
           {"number": amendment.number, "reason": amendment.reason, "changes": changes},
           label=str(amendment))
    return amendment


def _apply(actor, amendment: Amendment) -> None:
    agreement = amendment.agreement
    before = agreement_snapshot(agreement)
    for change in amendment.changes:
        field = change["field"]
        if field == "end_date":
            agreement.end_date = date.fromisoformat(change["after"])
        elif field.startswith("amount:"):
            community_id = int(field.split(":")[1])
            next(c for c in agreement.communities if c.community_id == community_id
                 ).amount_fen = change["after"]
        elif field.startswith("budget:"):
            _, community_id, category = field.split(":")
            next(line for line in agreement.budget_lines
                 if line.community_id == int(community_id) and line.category.value == category
                 ).amount_fen = change["after"]
    db.session.flush()
    agreement.content_hash = signing.compute_hash(agreement)
    record(actor, "agreement.amend", agreement, before,
           agreement_snapshot(agreement) | {"amendment": amendment.number})
    # The payments follow the new amounts: instalments not yet requested are re-planned.
    schedule.replan(actor, agreement, f"第{amendment.number}号变更：{amendment.reason[:100]}")


def sign_amendment(actor, amendment: Amendment, shown_hash: str):
    signature = signing.sign(actor, amendment, shown_hash=shown_hash)
    if amendment.state is DocumentState.IN_FORCE:
        _apply(actor, amendment)
    return signature


def cancel(actor, document: Amendment | SpecialAgreement, reason: str
           ) -> Amendment | SpecialAgreement:
    """An amendment or special agreement not yet in force can be withdrawn (作废)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明作废原因。", field="reason")
    signing.DOCUMENT.move(document, DocumentState.CANCELLED, "作废")
    db.session.flush()
    record(actor, f"{document.kind.value}.cancel", document, None, {"reason": reason},
           label=str(document))
    return document


def create_special(actor, agreement: Agreement, *, title: str, content: str,
                   budget: dict[BudgetCategory, int], start_date: date, end_date: date
                   ) -> SpecialAgreement:
    """A task handed down outside the contract, with its own budget, signed by the parties."""
    # Created at once, specials take turns on the cooperation: distinct numbers.
    lock_for_update(agreement.cooperation)
    db.session.expire(agreement.cooperation, ["specials"])
    _require_in_force(agreement, "签订专项服务合作协议")
    title, content = (title or "").strip(), (content or "").strip()
    if not title or not content:
        raise DomainError("请填写专项服务的名称和内容。", field="title")
    coop = agreement.cooperation
    if end_date < start_date or start_date < coop.start_date or end_date > coop.end_date:
        raise DomainError("专项服务的期限应在合作期之内，且结束不早于开始。", field="start_date")
    amount = sum(budget.values())
    if amount <= 0:
        raise DomainError("请填写专项服务的预算。", field="budget")
    rules.check_budget(title, amount, budget)
    special = SpecialAgreement(cooperation=coop, agreement=agreement,
                               number=len(coop.specials) + 1, title=title[:200],
                               content=content[:10000], amount_fen=amount,
                               budget={BudgetCategory(k).value: v for k, v in budget.items() if v},
                               start_date=start_date, end_date=end_date,
                               state=DocumentState.DRAFT, version=1,
                               created_by_id=getattr(actor, "id", None))
    db.session.add(special)
    db.session.flush()
    special.content_hash = signing.compute_hash(special)
    db.session.flush()
    record(actor, "special.create", special, None, signing.content(special), label=str(special))
    return special


def sign_special(actor, special: SpecialAgreement, shown_hash: str):
    signature = signing.sign(actor, special, shown_hash=shown_hash)
    # Once in force, a scheduled agreement gets the special's instalment too.
    if special.state is DocumentState.IN_FORCE and schedule.accounts_of(special.agreement):
        schedule.schedule(actor, special.agreement)
    return signature
