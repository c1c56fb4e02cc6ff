"""Score sheets (评分表): one source's evaluation of one community for one period. Each rater
fills in the indicators of its source, with comments (and, for a residents' committee, the
residents' opinions it collected), then submits. The agency's quarterly self-assessment
(机构季度自评) also carries the quarter's completion summary from the task list, filled in
automatically, and evidence files; it is due a set number of working days after the
quarter (late ones are flagged) and the street office accepts it or returns it with
comments. A finalised period's scores are locked."""
import unicodedata
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from procurement.audit import record, snapshot
from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.errors import DomainError
from procurement.documents import storage
from procurement.evaluations import plan
from procurement.evaluations.models import (EvaluationFile, EvaluationPeriod, EvaluationScore,
                                            EvaluationSheet)
from procurement.evaluations.permissions import can_manage, can_rate
from procurement.evaluations.scoring import is_final, normalise
from procurement.evaluations.states import (RATING_SHEET, SELF_SHEET, SHEET_SOURCES,
                                            PeriodKind, SheetState)
from procurement.extensions import db
from procurement.tasks import completion

SHEET_FIELDS = ("source", "state", "total", "late", "returns", "review_comment")
MAX_FILES = 20


def machine(sheet: EvaluationSheet):
    return SELF_SHEET if sheet.source is Src.SELF else RATING_SHEET


def sheet_for(period: EvaluationPeriod, community, source: Src) -> EvaluationSheet | None:
    return db.session.scalar(sa.select(EvaluationSheet).where(
        EvaluationSheet.period_id == period.id, EvaluationSheet.community_id == community.id,
        EvaluationSheet.source == source))


def parse_score(text, indicator) -> Decimal | None:
    """A score typed in a form: full-width digits accepted; blank is "not scored yet"."""
    text = unicodedata.normalize("NFKC", str(text if text is not None else "")).strip()
    if text == "":
        return None
    label = f"“{indicator.name}”"
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DomainError(f"{label}的得分应为数字。", field="scores") from None
    if not value.is_finite() or value != value.quantize(Decimal("0.1")):
        raise DomainError(f"{label}的得分最多保留一位小数。", field="scores")
    if not 0 <= value <= indicator.max_score:
        raise DomainError(f"{label}的得分应在 0 至 {indicator.max_score.normalize():f} 之间。",
                          field="scores")
    return value


def _require_writable(actor, period: EvaluationPeriod, community, source: Src) -> None:
    if source not in SHEET_SOURCES:
        raise DomainError("居民满意度通过问卷收集，没有评分表。")
    if not can_rate(actor, period.agreement, community, source):
        raise DomainError(f"您不能填写{community.name}的{source.label}。")
    if is_final(period, community):
        raise DomainError("该期评估结果已确定，分数已锁定。")
    if clock.today() < period.start_date:
        raise DomainError("评估期间尚未开始。")


def save(actor, period: EvaluationPeriod, community, source: Src, *, scores: dict,
         narrative: str = "", opinions: str = "") -> EvaluationSheet:
    """Save a draft (or a returned self-assessment): scores by indicator id, blank allowed."""
    source = Src(source)
    _require_writable(actor, period, community, source)
    sheet = sheet_for(period, community, source)
    if sheet is None:
        sheet = EvaluationSheet(period_id=period.id, period=period, community_id=community.id,
                                community=community, source=source, state=SheetState.DRAFT)
        db.session.add(sheet)
    elif sheet.state not in (SheetState.DRAFT, SheetState.RETURNED):
        raise DomainError(f"{source.label}已提交，不能再修改。")
    indicators = plan.indicator_set(period.agreement, source).indicators
    known = {i.id: i for i in indicators}
    unknown = [k for k in scores if int(k) not in known]
    if unknown:
        raise DomainError("评分表中有不属于本来源的指标，请刷新页面后重试。", field="scores")
    parsed = {i.id: parse_score(scores.get(i.id, scores.get(str(i.id))), i) for i in indicators}
    before = snapshot(sheet, *SHEET_FIELDS) if sheet.id else None
    existing = {s.indicator_id: s for s in sheet.scores}
    for indicator_id, value in parsed.items():
        row = existing.get(indicator_id)
        if value is None and row is not None:
            sheet.scores.remove(row)
        elif value is not None and row is None:
            sheet.scores.append(EvaluationScore(indicator_id=indicator_id, score=value))
        elif value is not None:
            row.score = value
    sheet.narrative = (narrative or "").strip()[:20000]
    sheet.opinions = (opinions or "").strip()[:20000] if source is Src.COMMITTEE else ""
    sheet.author_id = actor.id
    db.session.flush()
    record(actor, "evaluation.save", sheet, before,
           {**snapshot(sheet, *SHEET_FIELDS), "scores": {str(k): v for k, v in parsed.items()}},
           label=_label(sheet))
    return sheet


def submit(actor, sheet: EvaluationSheet) -> EvaluationSheet:
    period, community = sheet.period, sheet.community
    _require_writable(actor, period, community, sheet.source)
    machine(sheet).check(sheet, SheetState.SUBMITTED, "提交")
    indicator_set = plan.indicator_set(period.agreement, sheet.source)
    scored = {s.indicator_id for s in sheet.scores}
    blank = [i.name for i in indicator_set.indicators if i.id not in scored]
    if blank:
        raise DomainError("以下指标尚未评分：" + "、".join(blank) + "。", field="scores")
    if sheet.source is Src.COMMITTEE and not sheet.opinions:
        raise DomainError("请填写本季度收集的居民意见。", field="opinions")
    if not sheet.narrative:
        what = "自评报告" if sheet.source is Src.SELF else "评价意见"
        raise DomainError(f"请填写{what}。", field="narrative")
    before = snapshot(sheet, *SHEET_FIELDS)
    now = clock.now()
    sheet.total = normalise(sum((s.score for s in sheet.scores), Decimal(0)),
                            indicator_set.max_total)
    if sheet.source is Src.SELF:
        sheet.completion = _completion(period, community)
        sheet.late = clock.today() > period.self_due
    machine(sheet).move(sheet, SheetState.SUBMITTED, "提交")
    sheet.submitted_at, sheet.author_id = now, actor.id
    plan.lock(indicator_set, now)
    db.session.flush()
    record(actor, "evaluation.submit", sheet, before, snapshot(sheet, *SHEET_FIELDS),
           label=_label(sheet))
    return sheet


def _completion(period: EvaluationPeriod, community) -> dict | None:
    """The quarter's completion summary, as the "quantity" evidence (None for the mid-term
    and final evaluations, which have no single quarter)."""
    if period.kind is not PeriodKind.QUARTER:
        return None
    summary = completion.quarter_summary(period.agreement, community, period.number)
    return {"overall": str(summary["overall"]) if summary["overall"] is not None else None,
            "alerts": summary["alerts"],
            "items": [{"task": i["task"], "target": i["target"], "done": i["done"],
                       "required": i["required"],
                       "percent": str(i["percent"]) if i["percent"] is not None else None,
                       "status": i["status"].label} for i in summary["items"]]}


def _review(actor, sheet: EvaluationSheet, target: SheetState, action: str, comment: str):
    if sheet.source is not Src.SELF:
        raise DomainError("只有机构自评需要审核。")
    if not can_manage(actor, sheet.period.agreement):
        raise DomainError("只有本街道的合同管理员或领导可以审核机构自评。")
    if is_final(sheet.period, sheet.community):
        raise DomainError("该期评估结果已确定，分数已锁定。")
    SELF_SHEET.check(sheet, target, action)
    before = snapshot(sheet, *SHEET_FIELDS)
    SELF_SHEET.move(sheet, target, action)
    sheet.reviewed_by_id, sheet.reviewed_at, sheet.review_comment = actor.id, clock.now(), \
        comment or None
    if target is SheetState.RETURNED:
        sheet.returns += 1
    db.session.flush()
    record(actor, f"evaluation.{target.value}", sheet, before, snapshot(sheet, *SHEET_FIELDS),
           label=_label(sheet))
    return sheet


def accept(actor, sheet: EvaluationSheet, comment: str = "") -> EvaluationSheet:
    return _review(actor, sheet, SheetState.ACCEPTED, "审核通过", (comment or "").strip())


def return_for_revision(actor, sheet: EvaluationSheet, comment: str) -> EvaluationSheet:
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("退回修改须写明意见。", field="comment")
    return _review(actor, sheet, SheetState.RETURNED, "退回修改", comment)


def attach(actor, sheet: EvaluationSheet, uploads) -> list[EvaluationFile]:
    """Evidence files on a sheet its author may still change. Every file is checked before
    any is kept."""
    _require_writable(actor, sheet.period, sheet.community, sheet.source)
    if sheet.state not in (SheetState.DRAFT, SheetState.RETURNED):
        raise DomainError("已提交的评分表不能再添加附件。")
    uploads = [u for u in uploads if u and getattr(u, "filename", "")]
    if not uploads:
        raise DomainError("请选择要上传的文件。", field="files")
    if len(sheet.files) + len(uploads) > MAX_FILES:
        raise DomainError(f"每份评分表最多 {MAX_FILES} 个附件。", field="files")
    checked = [storage.check(u, field="files") for u in uploads]
    rows = [EvaluationFile(sheet_id=sheet.id, file=storage.save(c, area="evaluations",
                                                                 actor=actor))
            for c in checked]
    sheet.files.extend(rows)
    db.session.flush()
    record(actor, "evaluation.attach", sheet, None,
           {"files": [r.file.original_name for r in rows]}, label=_label(sheet))
    return rows


def _label(sheet: EvaluationSheet) -> str:
    return f"{sheet.period.agreement.number} {sheet.community.name} {sheet.period.label}" \
           f"{sheet.source.label}"
