"""States and allowed transitions of a tender and of the things inside it."""
from flask_babel import lazy_gettext as _l

from procurement.core.states import LabelledEnum as Labelled, StateMachine


class TenderMethod(Labelled):
    OPEN = "open"
    INVITED = "invited"
    CONSULTATION = "consultation"


class TenderState(Labelled):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLARIFIED = "clarified"
    BIDDING_CLOSED = "bidding_closed"
    OPENED = "opened"
    EVALUATING = "evaluating"
    RESULT_PENDING = "result_pending"
    AWARDED = "awarded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BidState(Labelled):
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class CriterionKind(Labelled):
    PRICE = "price"
    OBJECTIVE = "objective"
    SUBJECTIVE = "subjective"


class TieBreak(Labelled):
    TECHNICAL = "technical"   # higher non-price score first
    DRAW = "draw"             # straight to a recorded random draw


class ScoreCombination(Labelled):
    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"


class RoundState(Labelled):
    SCORING = "scoring"
    CLOSED = "closed"


class SheetState(Labelled):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VOID = "void"


class MemberState(Labelled):
    ACTIVE = "active"
    REPLACED = "replaced"


class LowPriceDecision(Labelled):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class CorrectionReason(Labelled):
    SUMMING_ERROR = "summing_error"
    OUT_OF_RANGE = "out_of_range"
    OBJECTIVE_INCONSISTENT = "objective_inconsistent"


class ChallengeState(Labelled):
    OPEN = "open"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"


class DocumentKind(Labelled):
    TENDER = "tender"
    CLARIFICATION = "clarification"


# Keyed by (enum class, value): StrEnum members of different enums with the same value
# (TenderState.DRAFT, SheetState.DRAFT) are equal as dict keys.
_LABELLED = [
    (TenderMethod.OPEN, _l("公开招标")),
    (TenderMethod.INVITED, _l("邀请招标")),
    (TenderMethod.CONSULTATION, _l("竞争性磋商")),
    (TenderState.DRAFT, _l("草稿")),
    (TenderState.PUBLISHED, _l("已发布")),
    (TenderState.CLARIFIED, _l("已澄清")),
    (TenderState.BIDDING_CLOSED, _l("投标截止")),
    (TenderState.OPENED, _l("已开标")),
    (TenderState.EVALUATING, _l("评标中")),
    (TenderState.RESULT_PENDING, _l("待定标")),
    (TenderState.AWARDED, _l("已中标")),
    (TenderState.FAILED, _l("废标")),
    (TenderState.CANCELLED, _l("已取消")),
    (BidState.SUBMITTED, _l("已递交")),
    (BidState.WITHDRAWN, _l("已撤回")),
    (CriterionKind.PRICE, _l("价格分")),
    (CriterionKind.OBJECTIVE, _l("客观分")),
    (CriterionKind.SUBJECTIVE, _l("主观分")),
    (TieBreak.TECHNICAL, _l("技术得分高者优先，仍相同则随机抽取")),
    (TieBreak.DRAW, _l("随机抽取")),
    (ScoreCombination.MEAN, _l("各评委总分的算术平均")),
    (ScoreCombination.TRIMMED_MEAN, _l("去掉一个最高分和一个最低分后平均")),
    (RoundState.SCORING, _l("评分中")),
    (RoundState.CLOSED, _l("已结束")),
    (SheetState.DRAFT, _l("未提交")),
    (SheetState.SUBMITTED, _l("已提交")),
    (SheetState.VOID, _l("已作废")),
    (MemberState.ACTIVE, _l("在任")),
    (MemberState.REPLACED, _l("已更换")),
    (LowPriceDecision.PENDING, _l("待说明")),
    (LowPriceDecision.ACCEPTED, _l("说明已接受")),
    (LowPriceDecision.REJECTED, _l("说明不被接受")),
    (CorrectionReason.SUMMING_ERROR, _l("分值汇总计算错误")),
    (CorrectionReason.OUT_OF_RANGE, _l("分项评分超出评分标准规定的分值范围")),
    (CorrectionReason.OBJECTIVE_INCONSISTENT, _l("客观评审因素评分不一致")),
    (ChallengeState.OPEN, _l("待答复")),
    (ChallengeState.ANSWERED, _l("已答复")),
    (ChallengeState.WITHDRAWN, _l("已撤回")),
    (DocumentKind.TENDER, _l("招标文件")),
    (DocumentKind.CLARIFICATION, _l("澄清文件")),
]
LABELS = {(type(member), member.value): label for member, label in _LABELLED}

S = TenderState
TENDER = StateMachine("招标项目", {
    S.DRAFT: {S.PUBLISHED, S.CANCELLED},
    S.PUBLISHED: {S.CLARIFIED, S.BIDDING_CLOSED, S.FAILED, S.CANCELLED},
    S.CLARIFIED: {S.CLARIFIED, S.BIDDING_CLOSED, S.FAILED, S.CANCELLED},
    S.BIDDING_CLOSED: {S.OPENED, S.FAILED, S.CANCELLED},
    S.OPENED: {S.EVALUATING, S.FAILED, S.CANCELLED},
    S.EVALUATING: {S.RESULT_PENDING, S.FAILED},
    S.RESULT_PENDING: {S.AWARDED, S.FAILED},
})
# Before the deadline bids may come in; these are the states in which that is possible.
ACCEPTING_BIDS = frozenset({S.PUBLISHED, S.CLARIFIED})
# Once opened, bid contents may be read by those entitled to.
OPENED_STATES = frozenset({S.OPENED, S.EVALUATING, S.RESULT_PENDING, S.AWARDED})
FINISHED = frozenset({S.AWARDED, S.FAILED, S.CANCELLED})

BID = StateMachine("投标文件", {
    BidState.SUBMITTED: {BidState.WITHDRAWN, BidState.SUBMITTED},
    BidState.WITHDRAWN: {BidState.SUBMITTED},
})
ROUND = StateMachine("评分轮次", {RoundState.SCORING: {RoundState.CLOSED}})
SHEET = StateMachine("评分表", {
    SheetState.DRAFT: {SheetState.SUBMITTED, SheetState.VOID},
    SheetState.SUBMITTED: {SheetState.VOID},
})
CHALLENGE = StateMachine("质疑", {
    ChallengeState.OPEN: {ChallengeState.ANSWERED, ChallengeState.WITHDRAWN},
})
