"""The Lingyuan demo, the service's work: the registers of both communities imported from
Excel as the agency did in its first week, then the first year of the grid social workers'
records (May 2016 – April 2017) through the real services with the business clock frozen at
each day: every household visited in the first quarter, vulnerable households monthly,
information collected at 10% a week, 143 enterprise and 870 shop inspections in the first
ten months, patrols, family-planning and sanitation rounds, activities with 2,000+
participations in the first months,
trainings, supervision, joint meetings and window services; a few records corrected or
withdrawn, as happens. The names are fictional; the volumes follow the field study.
Called by `demo.load_demo(work=True)`; idempotent."""
import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from procurement.accounts.models import User
from procurement.contracts.models import Agreement, Cooperation
from procurement.core import clock
from procurement.core.calendar import SHANGHAI, add_months, is_working_day
from procurement.extensions import db
from procurement.orgs.models import Community
from procurement.tasks import records, registers
from procurement.tasks.models import Household, Premises, WorkRecord
from procurement.tasks.states import PremisesKind, RecordKind

FIRST_DAY, LAST_DAY = date(2016, 5, 1), date(2017, 4, 30)  # the first year of work
MONTHS = 12
IMPORTED_ON = date(2016, 5, 3)
# Per community: households (the community's own count), enterprises and shops. 14
# enterprises monthly for ten months plus 3 follow-up visits = 143; 290 shops a quarter for
# three quarters = 870 (DOMAIN.md 4).
PREMISES = {"林口社区": (8, 160, 3), "灵水社区": (6, 130, 0)}  # and follow-up visits
VULNERABLE_SHARE = 0.06
SURNAMES = "陈林黄吴王许蔡张李施洪郑杨庄苏曾粘谢何刘"
GIVEN = "建国秀英志明丽华文斌美玲俊杰雅婷伟强淑芬海燕振宇佳怡家豪晓燕金水阿妹清泉"
BUSINESS = ["鞋服加工", "食品加工", "五金制品", "纺织印染", "包装印刷", "建材贸易", "物流仓储"]
SHOP_KINDS = ["便利店", "小吃店", "理发店", "五金店", "药店", "水果店", "服装店", "茶叶店", "电动车行"]
ACTIVITIES = ["端午节包粽子", "中秋博饼", "重阳敬老宴", "亲子阅读会", "广场舞交流", "社区义诊",
              "防诈骗讲座", "垃圾分类宣传", "暑期四点半课堂", "消防演练", "外来务工人员联谊",
              "志愿者服务日", "老年人智能手机课堂", "春节写春联", "元宵猜灯谜"]
SOCIETIES = ["夕阳红志愿服务队", "巾帼互助会", "外来务工人员互助会", "青少年篮球队", "广场舞队"]
TRAININGS = ["网格信息平台操作", "入户走访技巧", "安全生产检查要点", "矛盾纠纷调解", "社会工作伦理",
             "个案记录规范", "社区资源链接", "危机干预", "小组工作方法", "年终总结与计划", "服务满意度调查方法",
             "年度评估资料整理"]
FINDINGS = ["灭火器过期未更换", "安全出口堆放杂物", "电线私拉乱接", "液化气瓶与灶具间距不足",
            "消防通道被占用"]
WINDOW_MATTERS = ["居住证明", "计生服务证", "高龄补贴申请", "医保缴费", "低保申请转办",
                  "房屋修缮申请", "老年优待证", "就业登记"]


def _at(day: date, hour: int = 18) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def _work_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def load_service_work(cooperation_number: str) -> bool:
    cooperation = db.session.scalar(sa.select(Cooperation).where(
        Cooperation.number == cooperation_number))
    if cooperation is None or not cooperation.agreements:
        return False
    agreement = cooperation.agreements[0]
    if db.session.scalar(sa.select(WorkRecord.id).where(WorkRecord.agreement_id == agreement.id)
                         .limit(1)):
        return False
    staff = db.session.scalar(sa.select(User).where(User.username == "cishan"))
    rng = random.Random(2016)
    communities = [row.community for row in agreement.communities]
    with clock.frozen(_at(IMPORTED_ON, 10)):
        for community in communities:
            _import_registers(staff, community, rng)
    plan = defaultdict(list)  # day → the day's entries, entered that evening
    for community in communities:
        _plan_community(plan, staff, agreement, community, rng)
    for day in sorted(plan):
        with clock.frozen(_at(day)):
            for entry in plan[day]:
                entry()
    _corrections(staff, agreement)
    db.session.flush()
    return True


# --- registers -----------------------------------------------------------------------------


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN[::2]) + rng.choice(GIVEN[1::2])


def _import_registers(staff, community: Community, rng: random.Random) -> None:
    grids = community.grids
    per_grid = [community.households // len(grids)] * len(grids)
    per_grid[0] += community.households - sum(per_grid)
    rows = []
    for grid, count in zip(grids, per_grid):
        for n in range(count):
            building, room = f"{grid.number}区{n // 24 + 1}号楼", f"{(n % 24) // 4 + 1}0{n % 4 + 1}"
            flags = ["否"] * 5
            if rng.random() < VULNERABLE_SHARE:
                flags[rng.randrange(5)] = "是"
            rows.append([grid.number, building, room, _name(rng), f"138{rng.randrange(10**8):08d}",
                         rng.choice((1, 2, 3, 3, 4, 4, 5, 6)), *flags, None])
    registers.import_households(
        staff, community, registers.build_workbook(registers.HOUSEHOLDS, rows, grids),
        f"{community.name}住户台账.xlsx")
    enterprises, shops, _ = PREMISES[community.name]
    rows = []
    for n in range(enterprises):
        grid = grids[n % len(grids)]
        rows.append([grid.number, "企业", f"晋江市{community.name[:2]}{_name(rng)[1:]}{rng.choice(BUSINESS)}有限公司",
                     f"{community.name[:2]}工业区{n + 1}号", None, rng.choice(BUSINESS), _name(rng),
                     f"0595-8{rng.randrange(10**6):06d}"])
    for n in range(shops):
        grid = grids[n % len(grids)]
        rows.append([grid.number, "店铺", f"{_name(rng)[0]}记{rng.choice(SHOP_KINDS)}",
                     f"{community.name[:2]}路{n + 1}号", None, "零售服务", _name(rng),
                     f"139{rng.randrange(10**8):08d}"])
    registers.import_premises(
        staff, community, registers.build_workbook(registers.PREMISES, rows, grids),
        f"{community.name}企业与店铺台账.xlsx")


# --- ten months of records ----------------------------------------------------------------


def _chunks(items: list, n: int) -> list[list]:
    size = max(1, math.ceil(len(items) / n))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _plan_community(plan, staff, agreement: Agreement, community: Community,
                    rng: random.Random) -> None:
    homes = db.session.execute(sa.select(Household.id, Household.grid_id,
                                         Household.vulnerable_clause())
                               .where(Household.community_id == community.id)
                               .order_by(Household.id)).all()
    places = db.session.execute(sa.select(Premises.id, Premises.grid_id, Premises.kind)
                                .where(Premises.community_id == community.id)
                                .order_by(Premises.id)).all()
    months = [(add_months(FIRST_DAY, i), add_months(FIRST_DAY, i + 1) - timedelta(days=1))
              for i in range(MONTHS)]

    planned = defaultdict(set)  # (day, kind) → ids: one record per household and day

    def batch(day, grid, kind, ids):
        ids = [i for i in ids if i not in planned[day, kind]]
        planned[day, kind].update(ids)
        if ids and day <= LAST_DAY:
            plan[day].append(lambda: records.add_batch(
                staff, community=community, grid=grid, kind=kind, day=day,
                household_ids=ids if kind is not RecordKind.INSPECTION else (),
                premises_ids=ids if kind is RecordKind.INSPECTION else ()))

    def single(day, **fields):
        if day <= LAST_DAY:
            plan[day].append(
                lambda: records.add(staff, community=community, day=day, **fields))

    follow_ups = PREMISES[community.name][2]
    visit_days = [d for d in (FIRST_DAY + timedelta(days=i) for i in range(92))
                  if d.weekday() in (1, 4) and is_working_day(d)]
    for grid in community.grids:
        own = [h for h in homes if h.grid_id == grid.id]
        # Every household visited in the first quarter, two rounds a week.
        for day, ids in zip(visit_days, _chunks([h.id for h in own], len(visit_days))):
            batch(day, grid, RecordKind.VISIT, ids)
        # Information collection: 10% of the grid's households each week (Thursdays).
        for week, ids in enumerate(_chunks([h.id for h in own], 10)):
            batch(_work_day(FIRST_DAY + timedelta(days=7 * week + 4)), grid,
                  RecordKind.INFO_UPDATE, ids)
        vulnerable = [h.id for h in own if h[2]]
        firms = [p for p in places if p.grid_id == grid.id and p.kind is PremisesKind.ENTERPRISE]
        shops = [p.id for p in places if p.grid_id == grid.id and p.kind is PremisesKind.SHOP]
        for index, (first, last) in enumerate(months):
            # Vulnerable households, twice a month in two halves.
            for half, ids in enumerate(_chunks(vulnerable, 2)):
                batch(_work_day(first + timedelta(days=6 + 12 * half)), grid, RecordKind.VISIT,
                      ids)
            # Every enterprise monthly: one with hazards now and then, followed up.
            day = _work_day(first + timedelta(days=9))
            clean = [f.id for f in firms]
            if firms and (index + grid.number) % 4 == 0:
                found = db.session.get(Premises, firms[0].id)
                clean.remove(found.id)
                single(day, kind=RecordKind.INSPECTION, premises=found, hazards=1,
                       findings=rng.choice(FINDINGS) + "，已下发整改通知。")
                if follow_ups and index < 9:
                    follow_ups -= 1
                    single(_work_day(day + timedelta(days=7)), kind=RecordKind.INSPECTION,
                           premises=found, hazards=0, notes="复查：隐患已整改到位。")
            batch(day, grid, RecordKind.INSPECTION, clean)
            # Shops: each quarter's shops over its three months; the fourth quarter's in
            # March and April, so the first ten months hold three rounds (870).
            part = (_chunks(shops, 3)[index % 3] if index < 9 else
                    _chunks(shops, 2)[index - 10] if index >= 10 else [])
            batch(_work_day(first + timedelta(days=15)), grid, RecordKind.INSPECTION, part)
            # Family planning twice a month per grid.
            for offset in (4, 18):
                single(_work_day(first + timedelta(days=offset)), kind=RecordKind.FAMILY_PLANNING,
                       grid=grid, title="育龄妇女随访及计生政策宣传")
        # Sanitation and patrols weekly per grid.
        week = FIRST_DAY
        while week <= LAST_DAY:
            single(_work_day(week + timedelta(days=1)), kind=RecordKind.SANITATION, grid=grid,
                   title="网格环境卫生巡查")
            single(_work_day(week + timedelta(days=2)), kind=RecordKind.PATROL, grid=grid,
                   title="两违巡查", notes="未发现新增违法建设。")
            week += timedelta(days=7)
    _community_routines(single, community, months, rng)


def _community_routines(single, community: Community, months, rng: random.Random) -> None:
    for index, (first, last) in enumerate(months):
        for n, offset in enumerate((5, 13, 24)):
            single(_work_day(first + timedelta(days=offset)), kind=RecordKind.ACTIVITY,
                   title=ACTIVITIES[(index * 3 + n + len(community.name)) % len(ACTIVITIES)],
                   participants=rng.randrange(45, 110))
        single(_work_day(first + timedelta(days=11)), kind=RecordKind.TRAINING,
               title=TRAININGS[index], participants=rng.randrange(8, 16))
        for offset in (7, 21):
            single(_work_day(first + timedelta(days=offset)), kind=RecordKind.SUPERVISION,
                   title="督导师驻点督导", participants=rng.randrange(5, 9),
                   minutes="督导师与社工逐一讨论个案进展，梳理入户走访中发现的需求。")
        if index % 3 == 1:
            single(_work_day(first + timedelta(days=16)), kind=RecordKind.SOCIAL_ORGANISATION,
                   title=SOCIETIES[(index // 3 + len(community.name)) % len(SOCIETIES)],
                   notes="指导社区社会组织制定章程、招募骨干，链接街道公益创投资源。")
        if index % 3 == 2:  # the last month of each quarter
            single(_work_day(last - timedelta(days=6)), kind=RecordKind.JOINT_MEETING,
                   title=f"第{'一二三四'[index // 3]}季度联席会议", participants=9,
                   minutes="街道办事处与机构通报本季度服务进度和考核情况，研究解决存在的问题。")
        for week in range(4):
            for n in range(4):
                day = _work_day(first + timedelta(days=7 * week + n))
                if day <= last:
                    single(day, kind=RecordKind.WINDOW_SERVICE,
                           title=rng.choice(WINDOW_MATTERS), resolved=rng.random() > 0.03)
            day = _work_day(first + timedelta(days=7 * week + 3))
            if week % 2 == 0 and day <= last:
                single(day, kind=RecordKind.HOME_HANDLING, resolved=True,
                       grid=community.grids[(index + week) % len(community.grids)],
                       title="为行动不便老人上门代办医保缴费")


def _corrections(staff, agreement: Agreement) -> None:
    """A mistyped activity corrected and a duplicate window-service record withdrawn."""
    activity = db.session.scalar(sa.select(WorkRecord).where(
        WorkRecord.agreement_id == agreement.id, WorkRecord.kind == RecordKind.ACTIVITY)
        .order_by(WorkRecord.day, WorkRecord.id).limit(1))
    window = db.session.scalar(sa.select(WorkRecord).where(
        WorkRecord.agreement_id == agreement.id, WorkRecord.kind == RecordKind.WINDOW_SERVICE)
        .order_by(WorkRecord.day, WorkRecord.id).limit(1))
    with clock.frozen(_at(activity.day + timedelta(days=2), 9)):
        records.correct(staff, activity, reason="参与人数录入有误，按签到表更正。",
                        participants=(activity.participants or 0) + 30)
    with clock.frozen(_at(window.day + timedelta(days=1), 9)):
        records.withdraw(staff, window, reason="同一事项重复录入。")
