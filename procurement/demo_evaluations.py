"""The Lingyuan demo, evaluations: the first year's four quarters for both communities, every
source through the real services with the business clock frozen at each step. The agency
assesses itself a week after each quarter (林口's second-quarter report is returned for
photos of the activities and resubmitted), the residents' committees, the street office and
the university rate, residents answer the satisfaction survey on their phones, and the
street office finalises each quarter. 灵水 trails 林口 (良好 against 优秀); when the fourth
quarter is finalised the year's grade goes on the agreement, which opens the renewal.
Called by `demo.load_demo(work=True)` after the service work; idempotent."""
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from procurement.accounts.models import User
from procurement.contracts.models import Cooperation
from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.calendar import SHANGHAI, add_working_days
from procurement.evaluations import plan, scoring, sheets, surveys
from procurement.evaluations.models import EvaluationSheet
from procurement.extensions import db

# The share of each indicator's maximum a source gives, per community: 灵水 trails.
LEVEL = {"林口社区": Decimal("0.92"), "灵水社区": Decimal("0.83")}
# 灵水's second quarter slipped (a late grid case, thin activity records): 基本合格.
SLIPPED = ("灵水社区", 2, Decimal("0.70"))
RATERS = {Src.SELF: "cishan", Src.STREET_OFFICE: "hetong", Src.UNIVERSITY: "xiada"}
COMMITTEES = {"林口社区": "linkou", "灵水社区": "lingshui"}
NARRATIVE = {
    Src.SELF: "本季度按服务清单完成入户走访、信息采集和安全检查，组织社区活动，督导和培训按计划开展。"
              "存在问题：部分外来务工人员白天不在家，走访需安排在晚间和周末。",
    Src.STREET_OFFICE: "服务清单任务完成较好，联席会议按时召开；请加强网格事件的反馈时效。",
    Src.UNIVERSITY: "抽查入户记录和个案档案，记录较规范；建议加强需求评估与服务成效的衔接。",
    Src.COMMITTEE: "社工按时驻点，熟悉网格情况，能及时回应居民诉求。",
}
OPINIONS = "居民反映社工入户热情、办事及时；希望增加老年人活动和夜间巡逻。"
RETURNED = ("林口社区", 2, "请补充本季度社区活动的照片和签到表，并说明网格事件超时的原因。")
SURVEY_SIZE = 60
ANSWERED = {"林口社区": 48, "灵水社区": 41}


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def load_evaluations(cooperation_number: str) -> bool:
    cooperation = db.session.scalar(sa.select(Cooperation).where(
        Cooperation.number == cooperation_number))
    if cooperation is None or not cooperation.agreements:
        return False
    agreement = cooperation.agreements[0]
    if db.session.scalar(sa.select(EvaluationSheet.id).join(EvaluationSheet.period)
                         .where(EvaluationSheet.period.has(agreement_id=agreement.id))
                         .limit(1)):
        return False
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    rng = random.Random(2017)
    for period in plan.periods(agreement):
        for row in agreement.communities:
            _quarter(users, period, row.community, rng)
    db.session.flush()
    return True


def _scores(agreement, source: Src, level: Decimal, rng: random.Random) -> dict:
    indicators = plan.indicator_set(agreement, source).indicators
    return {i.id: str(min(i.max_score, (i.max_score * (level + Decimal(rng.randrange(-3, 4))
                                                         / 100)).quantize(Decimal("0.1"))))
            for i in indicators}


def _quarter(users, period, community, rng: random.Random) -> None:
    agreement = period.agreement
    level = LEVEL[community.name]
    if (community.name, period.number) == SLIPPED[:2]:
        level = SLIPPED[2]
    end = period.end_date
    survey_opens = end - timedelta(days=10)
    with clock.frozen(_at(survey_opens, 9)):
        survey = surveys.create(users["hetong"], period, community, size=SURVEY_SIZE,
                                closes_at=_at(add_working_days(end, 5), 18))
    for n, token in enumerate(surveys.tokens_of(survey)[:ANSWERED[community.name]]):
        # The better the quarter, the more residents answer 非常满意 (in percent, no floats).
        base = 5 if rng.randrange(100) < int(level * 100) - 25 else 4
        answers = {q.key: max(1, min(5, base - (rng.random() < 0.15))) for q in surveys.QUESTIONS}
        with clock.frozen(_at(survey_opens + timedelta(days=n % 9), 19)):
            surveys.answer(token, answers, "社工很负责。" if n % 7 == 0 else "")
    sources = [(Src.SELF, users["cishan"]), (Src.COMMITTEE, users[COMMITTEES[community.name]]),
               (Src.STREET_OFFICE, users["hetong"]), (Src.UNIVERSITY, users["xiada"])]
    for offset, (source, rater) in enumerate(sources):
        day = add_working_days(end, 3 + offset)
        with clock.frozen(_at(day)):
            sheet = sheets.save(rater, period, community, source,
                                scores=_scores(agreement, source, level, rng),
                                narrative=NARRATIVE[source],
                                opinions=OPINIONS if source is Src.COMMITTEE else "")
            sheets.submit(rater, sheet)
        if source is Src.SELF:
            _review(users, sheet, community, period, day)
    with clock.frozen(_at(add_working_days(end, 12), 15)):
        scoring.finalise(users["hetong"], period, community)


def _review(users, sheet, community, period, day: date) -> None:
    manager = users["hetong"]
    name, quarter, comment = RETURNED
    if (community.name, period.number) == (name, quarter):
        with clock.frozen(_at(add_working_days(day, 1))):
            sheets.return_for_revision(manager, sheet, comment)
        with clock.frozen(_at(add_working_days(day, 2))):
            sheets.save(users["cishan"], period, community, Src.SELF,
                        scores={s.indicator_id: str(s.score) for s in sheet.scores},
                        narrative=sheet.narrative + "（已补充活动照片和签到表；超时事件系部门"
                                                    "协调所致，已说明。）")
            sheets.submit(users["cishan"], sheet)
        day = add_working_days(day, 2)
    with clock.frozen(_at(add_working_days(day, 1), 16)):
        sheets.accept(manager, sheet, "同意。")
