"""The residents' satisfaction survey (居民满意度调查): the street office creates one survey
per period and community with so many one-time tokens, prints them as QR codes, and
residents answer on their phones without an account, once per token, until the survey
closes. Answers are anonymous: a token only records that it was used, and the response
keeps no token and no time, so nothing leads from an answer back to a token (or to the
household it was handed to). The mean of the responses' scores is the residents' source
score (scoring.survey_score)."""
import math
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from procurement.accounts.roles import Role
from procurement.audit import record
from procurement.contracts.models import Agreement
from procurement.contracts.states import DocumentState
from procurement.core import clock
from procurement.core.calendar import local_to_utc
from procurement.core.errors import DomainError
from procurement.core.states import lock_for_update
from procurement.evaluations import scoring
from procurement.evaluations.models import (EvaluationPeriod, Survey, SurveyResponse,
                                            SurveyToken)
from procurement.evaluations.permissions import can_manage, can_view, covers
from procurement.evaluations.states import SURVEY, SurveyState
from procurement.extensions import db
from procurement.orgs.models import Community
from procurement.tasks.permissions import OFFICE_READERS, visible_agreements

MAX_SIZE = 2000
MIN_RESPONSES = 30          # the least a survey should collect, however small the community
RESPONSE_SHARE = Decimal("0.01")  # ...or 1% of its households, whichever is more
COMMENT_MAX = 500
CENT = Decimal("0.01")
TOKEN_BYTES = 16            # secrets.token_urlsafe(16): 22 characters, 128 bits
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,32}")


@dataclass(frozen=True)
class Question:
    key: str
    label: object   # short name, for results and the export
    text: object    # the question as the resident reads it


QUESTIONS = (
    Question("attitude", _l("社工服务态度"), _l("您对社工的服务态度满意吗？")),
    Question("timeliness", _l("服务及时性"), _l("您对社工服务的及时性满意吗？")),
    Question("case_result", _l("网格事件处理结果"),
             _l("您对网格事件（您反映的问题）的处理结果满意吗？")),
    Question("environment", _l("社区环境改善"), _l("您对社区环境的改善满意吗？")),
    Question("overall", _l("总体满意度"), _l("总体来说，您对社区社工服务满意吗？")),
)
QUESTION_KEYS = tuple(q.key for q in QUESTIONS)
# 1..5 as the resident reads them; shown from the best to the worst.
CHOICES = {5: _l("非常满意"), 4: _l("满意"), 3: _l("一般"), 2: _l("不满意"), 1: _l("非常不满意")}

UNKNOWN = "这个二维码无效，找不到对应的问卷。请核对链接，或联系社区工作人员。"
CLOSED = "本次满意度调查已结束，感谢您的关注。"
USED = "这个二维码已经填写过问卷，每个二维码只能填写一次。感谢您的参与！"


# --- who sees what ----------------------------------------------------------------------


def can_view_survey(user, survey: Survey) -> bool:
    return can_view(user, survey.period.agreement, survey.community)


def can_manage_survey(user, survey: Survey) -> bool:
    return can_manage(user, survey.period.agreement)


def visible_surveys(user):
    """`can_view_survey` as a query: the surveys of the agreements a user reads; a
    residents' committee only its own community's."""
    agreements = visible_agreements(user).subquery()
    query = (sa.select(Survey).join(EvaluationPeriod, EvaluationPeriod.id == Survey.period_id)
             .where(EvaluationPeriod.agreement_id.in_(sa.select(agreements.c.id))))
    reads_all = (Role.AUDITOR, Role.AGENCY_STAFF, *OFFICE_READERS, Role.UNIVERSITY_EVALUATOR)
    if user.has_role(Role.COMMITTEE_STAFF) and not user.has_role(*reads_all):
        query = query.where(Survey.community_id.in_(
            sa.select(Community.id).where(Community.committee_id == user.org_id)))
    return query


def manageable_agreements(user):
    """Agreements in force whose surveys this user may create (their street office)."""
    if not user.has_role(Role.CONTRACT_MANAGER, Role.LEADER):
        return []
    return [a for a in db.session.scalars(
        visible_agreements(user).where(Agreement.state == DocumentState.IN_FORCE)
        .order_by(Agreement.start_date.desc(), Agreement.id)) if can_manage(user, a)]


# --- the arithmetic ---------------------------------------------------------------------


def score_of(answers: dict[str, int]) -> Decimal:
    """A response on a 100-point scale: each answer 1→20 … 5→100, then the mean."""
    total = sum(Decimal(answers[key]) * 20 for key in QUESTION_KEYS)
    return (total / len(QUESTION_KEYS)).quantize(CENT, rounding=ROUND_HALF_UP)


def recommended_minimum(community: Community, size: int | None = None) -> int:
    """The responses a survey of this community should collect: at least 30, or 1% of its
    households when that is more; never more than the tokens printed."""
    wanted = max(MIN_RESPONSES, math.ceil(Decimal(community.households or 0) * RESPONSE_SHARE))
    return min(wanted, size) if size else wanted


def is_open(survey: Survey) -> bool:
    """Open for answers: not closed, before its closing time, and the period's result for
    the community not yet final (a late answer must not move a locked score)."""
    return (survey.state is SurveyState.OPEN and clock.now() < survey.closes_at
            and not scoring.is_final(survey.period, survey.community))


def response_count(survey: Survey) -> int:
    return db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))
                             .where(SurveyResponse.survey_id == survey.id)) or 0


def tokens_of(survey: Survey) -> list[str]:
    """Every token of the survey in creation order, used or not: a sheet printed twice
    must not show which codes were used since (that would tie the newest answers to
    their codes)."""
    return list(db.session.scalars(sa.select(SurveyToken.token)
                                   .where(SurveyToken.survey_id == survey.id)
                                   .order_by(SurveyToken.id)))


# --- the street office's operations -------------------------------------------------------


def create(actor, period: EvaluationPeriod, community: Community, *, size,
           closes_at: datetime) -> Survey:
    agreement = period.agreement
    if not can_manage(actor, agreement):
        raise DomainError("只有本街道的合同管理员或领导可以发起满意度调查。")
    if agreement.state is not DocumentState.IN_FORCE:
        raise DomainError("该年度协议尚未生效，不能发起满意度调查。", field="period")
    if not covers(agreement, community):
        raise DomainError("该社区不在本协议的服务范围内。", field="community")
    if scoring.is_final(period, community):
        raise DomainError("该社区本期评估结果已确定，不能再发起满意度调查。", field="period")
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE:
        raise DomainError(f"问卷份数应为 1 至 {MAX_SIZE} 之间的整数。", field="size")
    if not isinstance(closes_at, datetime) or closes_at.tzinfo is None:
        raise DomainError("请填写截止时间。", field="closes_at")
    if closes_at <= clock.now():
        raise DomainError("截止时间应晚于现在。", field="closes_at")
    period_start = local_to_utc(datetime.combine(period.start_date, time()))
    if closes_at <= period_start:
        raise DomainError(f"截止时间不能早于评估期间的开始日期（{period.start_date}）。",
                          field="closes_at")
    if _existing(period, community) is not None:
        raise DomainError("该社区本期已有满意度调查。", field="community")
    survey = Survey(period_id=period.id, community_id=community.id, size=size,
                    closes_at=closes_at, state=SurveyState.OPEN, created_by_id=actor.id)
    try:
        with db.session.begin_nested():  # a simultaneous second request: the unique key
            db.session.add(survey)
            db.session.flush()
    except IntegrityError:
        raise DomainError("该社区本期已有满意度调查。", field="community") from None
    survey.period, survey.community = period, community
    db.session.execute(sa.insert(SurveyToken), [
        {"survey_id": survey.id, "token": token, "used": False} for token in _new_tokens(size)])
    # The tokens are the ballot papers: never in the audit trail.
    record(actor, "survey.create", survey, None, {"size": size, "closes_at": closes_at},
           label=_label(survey))
    return survey


def close(actor, survey: Survey) -> Survey:
    if not can_manage(actor, survey.period.agreement):
        raise DomainError("只有本街道的合同管理员或领导可以结束满意度调查。")
    before = SURVEY.move(survey, SurveyState.CLOSED, "结束")
    db.session.flush()
    record(actor, "survey.close", survey, {"state": before.value},
           {"state": SurveyState.CLOSED.value, "responses": response_count(survey)},
           label=_label(survey))
    return survey


def _existing(period, community) -> Survey | None:
    return db.session.scalar(sa.select(Survey).where(Survey.period_id == period.id,
                                                     Survey.community_id == community.id))


def _new_tokens(n: int) -> list[str]:
    """n unguessable, URL-safe tokens, none already in use (a collision is astronomically
    unlikely, but checked all the same)."""
    tokens: set[str] = set()
    while len(tokens) < n:
        batch = {secrets.token_urlsafe(TOKEN_BYTES) for _ in range(n - len(tokens))} - tokens
        for start in range(0, len(batch), 500):
            chunk = list(batch)[start:start + 500]
            taken = set(db.session.scalars(sa.select(SurveyToken.token)
                                           .where(SurveyToken.token.in_(chunk))))
            tokens.update(t for t in chunk if t not in taken)
    return list(tokens)


def _label(survey: Survey) -> str:
    return (f"{survey.period.agreement.number} {survey.community.name} "
            f"{survey.period.label}居民满意度调查")


# --- the resident's answer ------------------------------------------------------------------


def token_state(token: str) -> tuple[Survey | None, str]:
    """What the answer page should show for a token: ("open" | "used" | "closed" |
    "unknown"), with its survey."""
    row = _token_row(token)
    if row is None:
        return None, "unknown"
    survey = db.session.get(Survey, row.survey_id)
    if not is_open(survey):
        return survey, "closed"
    return survey, "used" if row.used else "open"


def _token_row(token):
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    return db.session.execute(sa.select(SurveyToken.survey_id, SurveyToken.used)
                              .where(SurveyToken.token == token)).first()


def answer(token: str, answers: dict, comment: str | None = None) -> SurveyResponse:
    """A resident's answer, without logging in. The token is spent atomically (only one of
    simultaneous answers gets it), then the response is stored with no link to it."""
    survey, state = token_state(token)
    if state == "open":
        # Take turns with the close and the finalisation (both lock the survey) and look
        # again: an answer is either counted by them or refused, never slipped in after.
        lock_for_update(survey)
        survey, state = token_state(token)
    if state == "unknown":
        raise DomainError(UNKNOWN)
    if state == "closed":
        raise DomainError(CLOSED)
    if state == "used":
        raise DomainError(USED)
    values = _checked_answers(answers)
    text = _checked_comment(comment)
    spent = db.session.execute(
        sa.update(SurveyToken)
        .where(SurveyToken.token == token, SurveyToken.used == sa.false())
        .values(used=True).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise DomainError(USED)
    response = SurveyResponse(survey_id=survey.id, answers=values, score=score_of(values),
                              comment=text)
    db.session.add(response)
    db.session.flush()
    # Only that an answer came: no token, no answers, no address.
    record(None, "survey.answer", survey, None, {"responses": response_count(survey)},
           label=_label(survey), keep_ip=False)
    return response


def _checked_answers(answers) -> dict[str, int]:
    if not isinstance(answers, dict):
        raise DomainError("请回答全部问题。")
    unknown = set(answers) - set(QUESTION_KEYS)
    if unknown:
        raise DomainError("问卷内容不正确，请重新打开链接填写。")
    values = {}
    for question in QUESTIONS:
        value = answers.get(question.key)
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).strip()
            value = int(value) if value.isascii() and value.isdigit() and len(value) == 1 else value
        if value is None or value == "":
            raise DomainError(f"请回答“{question.label}”。", field=question.key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise DomainError(f"“{question.label}”的回答无效，请从五个选项中选择一项。",
                              field=question.key)
        values[question.key] = value
    return values


def _checked_comment(comment) -> str | None:
    if comment is None:
        return None
    if not isinstance(comment, str):
        raise DomainError("意见建议应为文字。", field="comment")
    text = comment.strip()
    if len(text) > COMMENT_MAX:
        raise DomainError(f"意见建议不能超过 {COMMENT_MAX} 个字。", field="comment")
    return text or None


# --- results ---------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question: Question
    counts: dict[int, int] = field(default_factory=lambda: {v: 0 for v in range(1, 6)})

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> Decimal | None:
        """The mean answer on the 1..5 scale."""
        if not self.answered:
            return None
        total = sum(Decimal(v * n) for v, n in self.counts.items())
        return (total / self.answered).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def score(self) -> Decimal | None:
        """The same on the 100-point scale."""
        if not self.answered:
            return None
        total = sum(Decimal(v * 20 * n) for v, n in self.counts.items())
        return (total / self.answered).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Results:
    survey: Survey
    responses: int
    questions: list[QuestionResult]
    score: Decimal | None           # the residents' source score (scoring.survey_score)
    rate: Decimal                   # responses / tokens, in per cent
    minimum: int
    warning: str | None
    comments: list[str]


def results(survey: Survey) -> Results:
    """Counts and means per question, the overall score and the response rate; a warning
    when fewer answered than the community's size calls for."""
    per_question = [QuestionResult(q) for q in QUESTIONS]
    comments = []
    rows = db.session.execute(sa.select(SurveyResponse.answers, SurveyResponse.comment)
                              .where(SurveyResponse.survey_id == survey.id)
                              .order_by(SurveyResponse.id))
    responses = 0
    for answers, comment in rows:
        responses += 1
        for item in per_question:
            value = (answers or {}).get(item.question.key)
            if value in item.counts:
                item.counts[value] += 1
        if comment:
            comments.append(comment)
    rate = (Decimal(responses) * 100 / survey.size).quantize(Decimal("0.1"),
                                                            rounding=ROUND_HALF_UP)
    return Results(survey=survey, responses=responses, questions=per_question,
                   score=scoring.survey_score(survey.period, survey.community), rate=rate,
                   minimum=recommended_minimum(survey.community, survey.size),
                   warning=too_few_warning(survey, responses), comments=comments)


def too_few_warning(survey: Survey, responses: int) -> str | None:
    minimum = recommended_minimum(survey.community, survey.size)
    if responses >= minimum:
        return None
    return (f"已回收 {responses} 份问卷，少于按社区规模（{survey.community.households} 户）"
            f"建议的至少 {minimum} 份，结果的代表性不足。")
