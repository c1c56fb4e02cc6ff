"""The Lingyuan demo, grid work: the agency's team in both communities and a season of grid
cases through every path of their flow (2016). Called by `demo.load_demo`; idempotent."""
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from procurement.accounts.models import User
from procurement.contracts.models import Agreement, Cooperation
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.extensions import db
from procurement.tasks import cases, team
from procurement.tasks.models import GridCase, TeamMember
from procurement.tasks.states import CaseCategory, TeamRole, Urgency

# Surnames for the team; each community has a chief supervisor, a project lead and, per grid,
# a supervisor and a grid social worker.
TEAM = {
    "林口社区": ("洪志明", "陈雅婷", ["许家豪", "蔡丽珍", "吴俊杰", "黄晓燕", "王文斌"],
               ["施雅琳", "李建国", "郑美玲", "杨志强", "林淑芬"]),
    "灵水社区": ("粘少华", "庄惠敏", ["张伟明", "刘佳怡", "苏文杰", "何丽华", "谢振宇"],
               ["曾美琪", "王俊豪", "陈秀英", "许文龙", "方雅雯"]),
}

# (day, community, grid, reporter, category, urgency, title, description, path)
# path: "closed" (handled on the spot, closed, rated), "escalated" (a department handled it),
# "cancelled" (a duplicate).
CASES = [
    (date(2016, 5, 9), "林口社区", 1, "cishan", CaseCategory.SANITATION, Urgency.NORMAL,
     "小区垃圾清运不及时", "3号楼旁垃圾桶满溢两日，居民反映异味。", "closed"),
    (date(2016, 5, 17), "林口社区", 2, "linkou", CaseCategory.SAFETY, Urgency.URGENT,
     "楼道电动车充电", "5号楼楼道有住户私拉电线给电动车充电，存在火灾隐患。", "closed"),
    (date(2016, 6, 6), "灵水社区", 3, "cishan", CaseCategory.ILLEGAL_BUILDING, Urgency.NORMAL,
     "屋顶违章搭建", "灵水村27号屋顶新搭彩钢棚约30平方米。", "escalated"),
    (date(2016, 6, 14), "灵水社区", 1, "lingshui", CaseCategory.DISPUTE, Urgency.NORMAL,
     "邻里漏水纠纷", "楼上住户卫生间漏水至楼下，双方协商未果。", "closed"),
    (date(2016, 6, 15), "灵水社区", 1, "lingshui", CaseCategory.DISPUTE, Urgency.NORMAL,
     "邻里漏水纠纷（重复）", "与昨日上报的漏水纠纷为同一事件。", "cancelled"),
    (date(2016, 7, 4), "林口社区", 4, "cishan", CaseCategory.FACILITIES, Urgency.NORMAL,
     "路灯不亮", "林口路与中心街交叉口两盏路灯夜间不亮。", "escalated"),
]
DEPARTMENTS = {CaseCategory.ILLEGAL_BUILDING: "灵源街道城建办",
               CaseCategory.FACILITIES: "灵源街道市政服务中心",
               CaseCategory.SAFETY: "灵源街道安监办",
               CaseCategory.SANITATION: "灵源街道环卫所"}

# The everyday cases of the first months (DOMAIN.md 4: 50+ solved, things thrown from
# heights, waterlogged roads, broken pavements): (category, urgency, title, description).
EVERYDAY = [
    (CaseCategory.SAFETY, Urgency.URGENT, "高空抛物", "{b}有住户从高处抛下垃圾袋，险些砸中行人。"),
    (CaseCategory.FACILITIES, Urgency.URGENT, "道路积水", "暴雨后{b}前路段积水没过脚踝，影响通行。"),
    (CaseCategory.FACILITIES, Urgency.NORMAL, "人行道路面破损", "{b}旁人行道地砖松动破损约5米。"),
    (CaseCategory.SANITATION, Urgency.NORMAL, "建筑垃圾乱堆放", "{b}楼下有装修垃圾堆放三天未清运。"),
    (CaseCategory.DISPUTE, Urgency.NORMAL, "夜间噪音扰民", "{b}底商夜间营业噪音大，住户多次投诉。"),
    (CaseCategory.POPULATION, Urgency.NORMAL, "新入住人员未登记", "{b}出租屋新入住4名务工人员未办理登记。"),
    (CaseCategory.SAFETY, Urgency.EMERGENCY, "井盖缺失", "{b}门口污水井盖缺失，已临时设置警示。"),
    (CaseCategory.SAFETY, Urgency.URGENT, "消防通道被占用", "{b}消防通道被私家车长期占用。"),
    (CaseCategory.FACILITIES, Urgency.NORMAL, "健身器材损坏", "{b}旁小广场健身器材断裂，存在安全隐患。"),
    (CaseCategory.SANITATION, Urgency.NORMAL, "下水道堵塞", "{b}下水道堵塞，污水外溢。"),
]
TYPHOON_DAY = date(2016, 9, 16)  # the day after Meranti


def _everyday_cases() -> list:
    """48 cases from May to October 2016, both communities, every grid; one in eight goes
    to a department, and one is handled days late (it costs 灵水 its second quarter's
    in-time rate)."""
    found = []
    day = date(2016, 5, 11)
    for n in range(48):
        name = ("林口社区", "灵水社区")[n % 2]
        reporter = "cishan" if n % 3 else ("linkou" if name == "林口社区" else "lingshui")
        category, urgency, title, text = EVERYDAY[n % len(EVERYDAY)]
        if day == TYPHOON_DAY or (TYPHOON_DAY <= day < TYPHOON_DAY + timedelta(days=4)):
            category, urgency, title, text = (CaseCategory.SAFETY, Urgency.EMERGENCY,
                                              "台风后树木倒伏", "台风过后{b}旁大树倒伏压住电线。")
        path = ("escalated" if n % 8 == 5 and category in DEPARTMENTS
                else "late" if n == 31 else "closed")
        found.append((day, name, n % 5 + 1, reporter, category, urgency, title,
                      text.format(b=f"{n % 5 + 1}区{n % 7 + 1}号楼"), path))
        day += timedelta(days=3 + n % 2)
    return found


CASES = CASES + _everyday_cases()


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def load_grid_work(cooperation_number: str) -> bool:
    cooperation = db.session.scalar(sa.select(Cooperation).where(
        Cooperation.number == cooperation_number))
    if cooperation is None or not cooperation.agreements:
        return False
    agreement = cooperation.agreements[0]
    created = False
    if not db.session.scalar(sa.select(TeamMember.id).where(TeamMember.agreement_id == agreement.id)):
        _team(agreement)
        created = True
    if not db.session.scalar(sa.select(GridCase.id).where(GridCase.agency_id == cooperation.agency_id)):
        _cases(agreement)
        created = True
    return created


def _users() -> dict[str, User]:
    return {u.username: u for u in db.session.scalars(sa.select(User))}


def _team(agreement: Agreement) -> None:
    staff = _users()["cishan"]
    start = agreement.start_date
    with clock.frozen(_at(start, 9)):
        for row in agreement.communities:
            community = row.community
            chief, lead, supervisors, workers = TEAM[community.name]
            team.add_member(staff, agreement, community_id=community.id,
                            role=TeamRole.CHIEF_SUPERVISOR, name=chief, start_date=start,
                            qualification="高级社会工作师")
            team.add_member(staff, agreement, community_id=community.id,
                            role=TeamRole.PROJECT_LEAD, name=lead, start_date=start,
                            qualification="社会工作师")
            for grid, supervisor, worker in zip(community.grids, supervisors, workers):
                team.add_member(staff, agreement, community_id=community.id,
                                role=TeamRole.SUPERVISOR, grid_id=grid.id, name=supervisor,
                                start_date=start, qualification="助理社会工作师")
                team.add_member(staff, agreement, community_id=community.id,
                                role=TeamRole.GRID_WORKER, grid_id=grid.id, name=worker,
                                start_date=start)
    # One grid social worker left in the summer and was replaced the next week.
    leaver = db.session.scalar(sa.select(TeamMember).where(
        TeamMember.agreement_id == agreement.id, TeamMember.name == TEAM["灵水社区"][3][2]))
    with clock.frozen(_at(date(2016, 8, 1), 9)):
        team.end_member(staff, leaver, end_date=date(2016, 7, 29), reason="考取公务员，离职")
        team.add_member(staff, agreement, community_id=leaver.community_id,
                        role=TeamRole.GRID_WORKER, grid_id=leaver.grid_id, name="黄思远",
                        start_date=date(2016, 8, 8))


def _cases(agreement: Agreement) -> None:
    users = _users()
    worker, supervisor, manager = users["cishan"], users["cishan"], users["hetong"]
    communities = {row.community.name: row.community for row in agreement.communities}
    for day, name, grid_no, reporter, category, urgency, title, text, path in CASES:
        grid = communities[name].grids[grid_no - 1]
        with clock.frozen(_at(day, 9, 30)):
            case = cases.report(users[reporter], grid=grid, category=category, urgency=urgency,
                                title=title, description=text)
        with clock.frozen(_at(day, 11)):
            if path == "cancelled":
                cases.cancel(supervisor, case, "重复上报，已并入前一事件处理。")
                continue
            cases.verify(supervisor, case)
        if path == "escalated":
            with clock.frozen(_at(day, 14)):
                cases.escalate(worker, case, DEPARTMENTS[category])
            answered = (_at(day + timedelta(days=1), 9) if urgency is not Urgency.NORMAL
                        else _at(day + timedelta(days=2), 10))
            with clock.frozen(answered):
                cases.record_department_result(manager, case, "部门已现场处理并完成整改。")
            closer = supervisor
        else:
            # On the spot: an emergency within hours; a late one days after its limit.
            handled = (_at(day + timedelta(days=4), 15) if path == "late" else
                       _at(day, 12) if urgency is Urgency.EMERGENCY else _at(day, 15))
            with clock.frozen(handled):
                cases.handle_on_spot(worker, case, "网格社工已到现场协调处理完毕。")
            closer = manager  # never the handler
        done = day + timedelta(days=5 if path == "late" else 2)
        with clock.frozen(_at(done, 16)):
            cases.feed_back(worker, case, "处置结果已告知上报人。")
            cases.close(closer, case)
        with clock.frozen(_at(done + timedelta(days=1), 10)):
            cases.rate(users[reporter], case, 5 if path == "closed" else 4, "处理及时，满意。")
