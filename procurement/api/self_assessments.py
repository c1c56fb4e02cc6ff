"""The agency's quarterly self-assessment (机构自评) over the API: its system reads the sheet
(the indicators to score and the draft so far) and saves drafts through
`evaluations.sheets.save`, the service the fill page calls. Submitting stays on the page,
where the evidence files are attached and the completion summary is shown."""
from procurement.accounts.roles import Role
from procurement.api import ApiError, body, bp, commit, load, respond, stamp, who, written
from procurement.api import spec as s
from procurement.contracts.states import EvaluationSource as Src
from procurement.core.permissions import allow, require
from procurement.evaluations import plan, sheets
from procurement.evaluations.models import EvaluationPeriod
from procurement.evaluations.permissions import can_rate, can_view, can_view_sheet, covers
from procurement.orgs.models import Community

READERS = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, Role.CONTRACT_MANAGER, Role.LEADER,
           Role.FINANCE_OFFICER, Role.UNIVERSITY_EVALUATOR, Role.AUDITOR)

SHEET = s.obj(
    period_id=s.integer(), period=s.string(), community_id=s.integer(), community=s.string(),
    state=s.string(nullable=True, description="draft、submitted、returned、accepted；未填写时为空"),
    state_label=s.string(nullable=True), self_due=s.string("date"),
    submitted_at=s.string("date-time", nullable=True), late=s.boolean(),
    review_comment=s.string(nullable=True), narrative=s.string(),
    indicators=s.array(s.obj(id=s.integer(), dimension=s.string(), name=s.string(),
                             max_score=s.string(description="满分，一位小数"),
                             score=s.string(nullable=True, description="得分，一位小数；未评为空"))))
DRAFT = [body.scores(), body.text("narrative", "自评报告", 20000)]


def _slot(period_id: int, community_id: int):
    """The period and community, 404 unless the agreement covers the community and the
    caller reads its evaluations."""
    period = load(EvaluationPeriod, period_id)
    community = load(Community, community_id)
    if not (covers(period.agreement, community) and can_view(who(), period.agreement, community)):
        raise ApiError(404, "要查找的记录不存在。")
    return period, community


def _score(value) -> str | None:
    """Scores keep one decimal (sheets.parse_score): "8.5", "10.0"."""
    return None if value is None else f"{value:.1f}"


def _sheet_json(period: EvaluationPeriod, community, sheet) -> dict:
    scored = {row.indicator_id: row.score for row in sheet.scores} if sheet else {}
    indicators = plan.indicator_set(period.agreement, Src.SELF).indicators
    return {
        "period_id": period.id, "period": f"{period.kind.value}-{period.number}",
        "community_id": community.id, "community": community.name,
        "state": sheet.state.value if sheet else None,
        "state_label": str(sheet.state.label) if sheet else None,
        "self_due": stamp(period.self_due),
        "submitted_at": stamp(sheet.submitted_at) if sheet else None,
        "late": bool(sheet and sheet.late),
        "review_comment": sheet.review_comment if sheet else None,
        "narrative": sheet.narrative if sheet else "",
        "indicators": [{"id": i.id, "dimension": i.dimension, "name": i.name,
                        "max_score": _score(i.max_score), "score": _score(scored.get(i.id))}
                       for i in indicators]}


PATH = "/evaluation-periods/<int:period_id>/communities/<int:community_id>/self-assessment"


@bp.route(PATH)
@allow(*READERS)
@s.operation("机构自评表（指标与已填得分）", s.obj(data=SHEET), tag="绩效评价",
             description="草稿只有机构本身能读；提交后，能读该社区评价的人都能读。")
def self_assessment(period_id: int, community_id: int):
    period, community = _slot(period_id, community_id)
    sheet = sheets.sheet_for(period, community, Src.SELF)
    user = who()
    readable = (can_view_sheet(user, sheet) if sheet is not None
                else can_rate(user, period.agreement, community, Src.SELF))
    if not readable:
        raise ApiError(404, "要查找的记录不存在。")
    return respond({"data": _sheet_json(period, community, sheet)})


@bp.route(PATH, methods=["PUT"])
@allow(Role.AGENCY_STAFF)
@s.operation("保存机构自评草稿", s.obj(data=SHEET), tag="绩效评价", body=DRAFT,
             description="与评分页面的“保存草稿”相同：只有承接该社区服务的机构能填；"
                         "已提交（未退回）或结果已确定的不能再改。scores 中未列出的指标视为未评。")
def save_self_assessment(period_id: int, community_id: int):
    period, community = _slot(period_id, community_id)
    require(can_rate(who(), period.agreement, community, Src.SELF),
            f"您不能填写{community.name}的机构自评。")
    values = body.read(DRAFT)
    sheet = commit(lambda: sheets.save(who(), period, community, Src.SELF,
                                       scores=values.get("scores") or {},
                                       narrative=values.get("narrative") or ""))
    return written({"data": _sheet_json(period, community, sheet)})
