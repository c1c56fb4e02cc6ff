"""Kinds and states of the evaluation side. The sources are the contract's
(contracts.states.EvaluationSource): street office, residents' committee, university,
residents (the survey) and the agency itself."""
from flask_babel import lazy_gettext as _l

from procurement.contracts.states import EvaluationSource
from procurement.core.states import LabelledEnum as Labelled, StateMachine


class PeriodKind(Labelled):
    QUARTER = "quarter"
    MIDTERM = "midterm"
    FINAL = "final"


class SheetState(Labelled):
    """A score sheet of one source for one community and period. The agency's
    self-assessment is reviewed (accepted or returned); the other sources' sheets count once
    submitted."""
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"


class SurveyState(Labelled):
    OPEN = "open"
    CLOSED = "closed"


# Sources rated on a sheet of indicators; the residents answer the survey instead.
SHEET_SOURCES = (EvaluationSource.STREET_OFFICE, EvaluationSource.COMMITTEE,
                 EvaluationSource.UNIVERSITY, EvaluationSource.SELF)
# Sheets whose submission counts at once; the self-assessment counts once accepted.
COUNTED = frozenset({SheetState.SUBMITTED, SheetState.ACCEPTED})

S = SheetState
SELF_SHEET = StateMachine("机构自评", {
    S.DRAFT: {S.SUBMITTED},
    S.SUBMITTED: {S.ACCEPTED, S.RETURNED},
    S.RETURNED: {S.SUBMITTED},
})
RATING_SHEET = StateMachine("评分表", {S.DRAFT: {S.SUBMITTED}})
SURVEY = StateMachine("满意度调查", {SurveyState.OPEN: {SurveyState.CLOSED}})

LABELS = {(type(member), member.value): label for member, label in [
    (PeriodKind.QUARTER, _l("季度评估")),
    (PeriodKind.MIDTERM, _l("期中评估")),
    (PeriodKind.FINAL, _l("期末评估")),
    (SheetState.DRAFT, _l("草稿")),
    (SheetState.SUBMITTED, _l("已提交")),
    (SheetState.RETURNED, _l("已退回修改")),
    (SheetState.ACCEPTED, _l("已通过审核")),
    (SurveyState.OPEN, _l("进行中")),
    (SurveyState.CLOSED, _l("已结束")),
]}
