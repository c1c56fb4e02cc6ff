"""The cooperation and its annual agreements: created from an awarded tender, edited before
they are in force (a new version after any signature), renewed year by year behind the
evaluation's gate, ended or terminated. check → change → audit → flush."""
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from procurement.audit import record, snapshot
from procurement.contracts import defaults, rules, signing
from procurement.contracts.models import (Agreement, AgreementCommunity, AgreementParty,
                                          BudgetLine, Cooperation, SubContract)
from procurement.contracts.states import (COOPERATION, DOCUMENT, EDITABLE, BudgetCategory,
                                          CooperationState, DocumentState, EvaluationSource,
                                          Grade, PartyRole, SubContractKind)
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.disbursements import schedule
from procurement.evaluations import plan as evaluation_plan
from procurement.core.money import split_evenly
from procurement.extensions import db
from procurement.orgs.models import Community, OrgKind, Organisation
from procurement.tenders.award import signing_block
from procurement.tenders.models import Tender
from procurement.tenders.rules import local_date

COOPERATION_FIELDS = ("number", "title", "start_date", "end_date", "justification", "state")


def agreement_snapshot(agreement: Agreement) -> dict:
    data = signing.content(agreement)
    data["state"] = agreement.state.value
    return data


def _number_for(tender: Tender) -> str:
    return tender.number.replace("ZB", "HT", 1) if tender.number.startswith("ZB") else \
        f"HT-{tender.number}"


def sign_due(tender: Tender) -> date:
    return rules.sign_due(local_date(tender.notice_published_at))


def create_cooperation(actor, tender: Tender, *, university: Organisation, start_date: date,
                       end_date: date, justification: str | None = None,
                       amount_per_community_fen: int | None = None) -> Cooperation:
    """From an awarded tender with nothing pending that may change the result: the
    cooperation and its first annual agreement, with Lingyuan's defaults to edit."""
    block = signing_block(tender)
    if block:
        raise DomainError(f"不能签订合同：{block}")
    if db.session.scalar(sa.select(Cooperation.id).where(Cooperation.tender_id == tender.id)):
        raise DomainError("该项目已建立合作，不能重复创建。")
    if university.kind is not OrgKind.UNIVERSITY or not university.active:
        raise DomainError("调研提升方应为启用的高校。", field="university")
    rules.check_cooperation_term(start_date, end_date, justification)
    winner = tender.awarded_bid
    cooperation = Cooperation(
        number=_number_for(tender), tender=tender, tender_id=tender.id,
        street_office_id=tender.street_office_id, agency_id=winner.agency_id,
        university_id=university.id, title=tender.title, start_date=start_date,
        end_date=end_date, justification=(justification or "").strip() or None,
        state=CooperationState.DRAFT, created_by_id=getattr(actor, "id", None))
    db.session.add(cooperation)
    db.session.flush()
    record(actor, "cooperation.create", cooperation, None,
           snapshot(cooperation, *COOPERATION_FIELDS) | {"tender": tender.number})
    communities = list(tender.communities)
    if amount_per_community_fen is None:
        amounts = split_evenly(winner.price_fen, len(communities))
    else:
        amounts = [amount_per_community_fen] * len(communities)
    _new_agreement(actor, cooperation, year_no=1, start_date=start_date,
                   end_date=min(rules.year_end(start_date), end_date),
                   amounts={c.id: a for c, a in zip(communities, amounts)},
                   sign_due=sign_due(tender))
    return cooperation


def _parties(cooperation: Cooperation, communities) -> list[tuple[Organisation, PartyRole]]:
    committees = [c.committee for c in communities]
    return ([(cooperation.street_office, PartyRole.PURCHASER)]
            + [(committee, PartyRole.SUPERVISOR) for committee in committees]
            + [(cooperation.university, PartyRole.RESEARCH),
               (cooperation.agency, PartyRole.CONTRACTOR)])


def _new_agreement(actor, cooperation: Cooperation, *, year_no: int, start_date: date,
                   end_date: date, amounts: dict[int, int], sign_due: date | None,
                   source: Agreement | None = None) -> Agreement:
    rules.check_agreement_term(start_date, end_date, cooperation.start_date, cooperation.end_date)
    agreement = Agreement(cooperation=cooperation, year_no=year_no,
                          number=f"{cooperation.number}-{year_no}", start_date=start_date,
                          end_date=end_date, state=DocumentState.DRAFT, version=1,
                          sign_due=sign_due)
    db.session.add(agreement)
    communities = [db.session.get(Community, cid) for cid in amounts]
    for position, (org, role) in enumerate(_parties(cooperation, communities), start=1):
        duties = (next((p.duties for p in source.parties if p.org_id == org.id), None)
                  if source else None) or defaults.DUTIES[role]
        agreement.parties.append(AgreementParty(org_id=org.id, org=org, role=role,
                                                position=position, duties=duties))
    for community in communities:
        amount = amounts[community.id]
        agreement.communities.append(AgreementCommunity(community_id=community.id,
                                                        community=community, amount_fen=amount))
        lines = ({line.category: line.amount_fen for line in source.budget_lines
                  if line.community_id == community.id} if source else defaults.budget_for(amount))
        rules.check_budget(community.name, amount, lines)
        agreement.budget_lines.extend(
            BudgetLine(community_id=community.id, category=category, position=i,
                       amount_fen=value) for i, (category, value) in enumerate(lines.items()))
    subs = ([(s.kind, s.title, s.content) for s in source.sub_contracts] if source
            else defaults.SUB_CONTRACTS)
    agreement.sub_contracts.extend(SubContract(number=i, kind=kind, title=title, content=text)
                                   for i, (kind, title, text) in enumerate(subs, start=1))
    agreement.evaluation_weights = (dict(source.evaluation_weights) if source else
                                    {k.value: str(v) for k, v in rules.DEFAULT_WEIGHTS.items()})
    agreement.grade_bands = (dict(source.grade_bands) if source else
                             {k.value: str(v) for k, v in rules.DEFAULT_BANDS.items()})
    db.session.flush()
    agreement.content_hash = signing.compute_hash(agreement)
    db.session.flush()
    record(actor, "agreement.create", agreement, None, agreement_snapshot(agreement))
    return agreement


def _require_open(cooperation: Cooperation, action: str) -> None:
    if cooperation.state in (CooperationState.ENDED, CooperationState.TERMINATED):
        raise DomainError(f"合作{cooperation.state.label}，协议不能再{action}。")


def _edit(actor, agreement: Agreement, apply) -> Agreement:
    _require_open(agreement.cooperation, "修改")
    before = agreement_snapshot(agreement)
    signing.DOCUMENT.require_in(agreement, signing.EDITABLE, "修改（已生效的协议只能通过变更修改）")
    apply()
    db.session.flush()
    if signing.compute_hash(agreement) == agreement.content_hash:
        return agreement  # saved unchanged: signatures stand, nothing to record
    bumped = signing.changed(agreement)
    after = agreement_snapshot(agreement)
    after["signatures_cleared"] = bumped
    record(actor, "agreement.update", agreement, before, after)
    return agreement


def update_terms(actor, agreement: Agreement, *, start_date: date, end_date: date,
                 amounts: dict[int, int], budget: dict[int, dict[BudgetCategory, int]]
                 ) -> Agreement:
    """Dates, the amount of each community and its budget lines (adding up exactly)."""
    coop = agreement.cooperation

    def apply():
        rules.check_agreement_term(start_date, end_date, coop.start_date, coop.end_date)
        agreement.start_date, agreement.end_date = start_date, end_date
        by_id = {c.community_id: c for c in agreement.communities}
        if set(amounts) != set(by_id) or set(budget) != set(by_id):
            raise DomainError("每个服务社区都要填写年度金额和预算。", field="amounts")
        for community_id, row in by_id.items():
            lines = budget[community_id]
            rules.check_budget(row.community.name, amounts[community_id], lines)
            row.amount_fen = amounts[community_id]
            for line in agreement.budget_lines:
                if line.community_id == community_id:
                    line.amount_fen = lines.get(line.category, 0)

    return _edit(actor, agreement, apply)


def update_sub_contracts(actor, agreement: Agreement,
                         rows: list[tuple[SubContractKind, str, str]]) -> Agreement:
    def apply():
        if not rows:
            raise DomainError("至少需要一份子合同。", field="sub_contracts")
        if len(rows) > 20:
            raise DomainError("子合同最多 20 份。", field="sub_contracts")
        for kind, title, text in rows:
            if not title.strip() or not text.strip():
                raise DomainError("每份子合同都要有名称和内容。", field="sub_contracts")
        existing = {s.number: s for s in agreement.sub_contracts}
        for number, (kind, title, text) in enumerate(rows, start=1):
            sub = existing.pop(number, None)
            if sub is None:
                agreement.sub_contracts.append(SubContract(number=number, kind=SubContractKind(kind),
                                                           title=title.strip(), content=text.strip()))
            else:
                sub.kind, sub.title, sub.content = SubContractKind(kind), title.strip(), text.strip()
        for sub in existing.values():
            agreement.sub_contracts.remove(sub)

    return _edit(actor, agreement, apply)


def update_duties(actor, agreement: Agreement, duties: dict[int, str]) -> Agreement:
    def apply():
        for party in agreement.parties:
            text = (duties.get(party.org_id) or "").strip()
            if not text:
                raise DomainError(f"请填写{party.org.name}的职责。", field="duties")
            party.duties = text[:5000]

    return _edit(actor, agreement, apply)


def update_evaluation(actor, agreement: Agreement, *, weights: dict[EvaluationSource, Decimal],
                      bands: dict[Grade, Decimal]) -> Agreement:
    """Sources and weights (totalling 100%) and grade bands, for the evaluation side."""
    def apply():
        rules.check_weights(weights)
        rules.check_bands(bands)
        agreement.evaluation_weights = {EvaluationSource(k).value: str(v)
                                        for k, v in weights.items() if v}
        agreement.grade_bands = {Grade(k).value: str(v) for k, v in bands.items()}

    return _edit(actor, agreement, apply)


def renewal_block(agreement: Agreement) -> str | None:
    """Whether the year before allows signing this renewal. The evaluation side records the
    year's grade on the agreement; a 不合格 year loses the next one, no grade yet means wait."""
    if agreement.year_no == 1:
        return None
    previous = next((a for a in agreement.cooperation.agreements
                     if a.year_no == agreement.year_no - 1), None)
    if previous is None or previous.annual_grade is None:
        return "上一年度的评估结果尚未确定，续签协议暂不能签署。"
    if previous.annual_grade is Grade.FAIL:
        return "上一年度评估结果为“不合格”，不能续签。"
    return None


def first_agreement_block(agreement: Agreement) -> str | None:
    if agreement.year_no != 1:
        return None
    block = signing_block(agreement.cooperation.tender)
    return f"暂停签订合同：{block}" if block else None


def sign_agreement(actor, agreement: Agreement, shown_hash: str):
    _require_open(agreement.cooperation, "签署")
    was_draft = agreement.cooperation.state is CooperationState.DRAFT
    signature = signing.sign(actor, agreement, shown_hash=shown_hash,
                             gate=lambda: first_agreement_block(agreement) or renewal_block(agreement))
    if agreement.state is DocumentState.IN_FORCE and was_draft:
        coop = agreement.cooperation
        COOPERATION.move(coop, CooperationState.ACTIVE, "生效")
        record(actor, "cooperation.activate", coop, {"state": "draft"}, {"state": "active"})
    if agreement.state is DocumentState.IN_FORCE:
        schedule.schedule(actor, agreement)  # the year's quarterly instalments
        evaluation_plan.prepare(agreement)   # the quarters it is evaluated in, the indicators
    return signature


def draft_renewal(actor, agreement: Agreement) -> Agreement:
    """The next year's agreement, drafted from this one (合作三年，一年一签)."""
    coop = agreement.cooperation
    if agreement.state is not DocumentState.IN_FORCE:
        raise DomainError("只有已生效的年度协议才能起草下一年度协议。")
    if any(a.year_no == agreement.year_no + 1 for a in coop.agreements):
        raise DomainError("下一年度协议已经起草。")
    if coop.state is not CooperationState.ACTIVE:
        raise DomainError(f"合作当前为“{coop.state.label}”，不能续签。")
    start = rules.add_years(agreement.start_date, 1)
    if start > coop.end_date:
        raise DomainError("合作期已到最后一年，不能再续签。")
    return _new_agreement(actor, coop, year_no=agreement.year_no + 1, start_date=start,
                          end_date=min(rules.year_end(start), coop.end_date),
                          amounts={c.community_id: c.amount_fen for c in agreement.communities},
                          sign_due=None, source=agreement)


def terminate(actor, cooperation: Cooperation, reason: str) -> Cooperation:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("请写明终止合作的原因。", field="reason")
    before = snapshot(cooperation, *COOPERATION_FIELDS)
    COOPERATION.move(cooperation, CooperationState.TERMINATED, "终止")
    cooperation.end_reason, cooperation.ended_at = reason[:2000], clock.now()
    # Whatever was still being drafted or signed dies with the cooperation.
    pending = [a for a in cooperation.agreements if a.state in EDITABLE]
    pending += [m for a in cooperation.agreements for m in a.amendments if m.state in EDITABLE]
    pending += [s for s in cooperation.specials if s.state in EDITABLE]
    for document in pending:
        DOCUMENT.move(document, DocumentState.CANCELLED, "随合作终止作废")
    db.session.flush()
    record(actor, "cooperation.terminate", cooperation, before,
           snapshot(cooperation, *COOPERATION_FIELDS)
           | {"reason": reason, "cancelled": [str(d) for d in pending]})
    return cooperation


def end_if_expired(actor, cooperation: Cooperation) -> bool:
    """After its last day the cooperation has ended."""
    if cooperation.state is CooperationState.ACTIVE and clock.today() > cooperation.end_date:
        COOPERATION.move(cooperation, CooperationState.ENDED, "期满")
        cooperation.ended_at = clock.now()
        record(actor, "cooperation.end", cooperation, {"state": "active"}, {"state": "ended"})
        return True
    return False
