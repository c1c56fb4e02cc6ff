"""The Lingyuan demo data (晋江市灵源街道, 2016). Organisations follow the field study;
every person and every agency other than 深圳慈善公益网 is fictional.

Besides organisations and one login per role, the demo replays the 2016 tender through the
real services with the business clock frozen at each moment: an invited tender for 林口 and
灵水, six invited agencies, a five-judge committee scoring over two rounds, the award to
深圳慈善公益网 and an answered challenge; and a training tender that failed (废标) for want
of bidders. Every step is checked by the same rules and audited like a real one.

The award then becomes the Lingyuan cooperation (合作三年，一年一签): the first annual
agreement with its master contract and six sub-contracts, 400,000 yuan per community with
its budget lines, signed by the street office, both residents' committees, the university
and the agency before the 30-day deadline; an amendment moving money between budget lines
and a special-service agreement after typhoon Meranti, each signed by every party.
"""
import functools
import io
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.accounts.services import create_user
from procurement.contracts import changes as contract_changes
from procurement.contracts import services as contracts
from procurement.contracts.models import Agreement, Cooperation
from procurement.contracts.states import BudgetCategory
from procurement.core import clock
from procurement.core.calendar import SHANGHAI
from procurement.extensions import db
from procurement.orgs.models import Community, OrgKind, Organisation
from procurement.orgs.services import create_community, create_organisation
from procurement.tasks import task_list
from procurement.tenders import award, bidding, evaluation, services
from procurement.tenders.models import Tender
from procurement.tenders.rules import CriterionSpec
from procurement.tenders.states import CorrectionReason, CriterionKind, TenderMethod

DEMO_PASSWORD = "Lingyuan@2016"
STREET_OFFICE = "晋江市灵源街道办事处"

AGENCIES = [
    ("深圳慈善公益网", "深圳"),
    ("深圳市鹏城社会工作服务中心", "深圳"),
    ("深圳市启航社工服务社", "深圳"),
    ("厦门市鹭岛社会工作服务中心", "厦门"),
    ("厦门市同心社工服务社", "厦门"),
    ("晋江市晋心社会工作服务中心", "晋江"),
]

# (username, name, organisation, roles, title); README lists the same table.
DEMO_USERS = [
    ("admin", "林志强", STREET_OFFICE, [Role.ADMIN], "信息化管理员"),
    ("zhaobiao", "陈晓梅", STREET_OFFICE, [Role.TENDER_OFFICER], "招标专员"),
    ("hetong", "王建华", STREET_OFFICE, [Role.CONTRACT_MANAGER], "合同管理员"),
    ("caiwu", "黄丽娟", STREET_OFFICE, [Role.FINANCE_OFFICER], "财务科科长"),
    ("lingdao", "蔡明辉", STREET_OFFICE, [Role.LEADER], "街道办事处主任"),
    ("cishan", "李思远", "深圳慈善公益网", [Role.AGENCY_STAFF], "项目主管"),
    ("pengcheng", "张海燕", "深圳市鹏城社会工作服务中心", [Role.AGENCY_STAFF], "项目主管"),
    ("qihang", "刘俊杰", "深圳市启航社工服务社", [Role.AGENCY_STAFF], "项目主管"),
    ("ludao", "吴静怡", "厦门市鹭岛社会工作服务中心", [Role.AGENCY_STAFF], "项目主管"),
    ("tongxin", "郑文博", "厦门市同心社工服务社", [Role.AGENCY_STAFF], "项目主管"),
    ("jinxin", "许雅琪", "晋江市晋心社会工作服务中心", [Role.AGENCY_STAFF], "项目主管"),
    ("linkou", "洪秀英", "林口社区居民委员会", [Role.COMMITTEE_STAFF], "居委会主任"),
    ("lingshui", "施振华", "灵水社区居民委员会", [Role.COMMITTEE_STAFF], "居委会主任"),
    ("xiada", "周文涛", "厦门大学公共事务学院", [Role.UNIVERSITY_EVALUATOR], "副教授"),
    ("judge1", "苏国栋", STREET_OFFICE, [Role.JUDGE], "采购人代表"),
    ("judge2", "杨慧敏", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("judge3", "方志诚", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("judge4", "谢婉清", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("judge5", "曾庆余", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("shenji", "欧阳明", "晋江市审计局", [Role.AUDITOR], "审计员"),
]


def load_demo(work: bool = True) -> bool:
    """Create whatever part of the demo is missing; returns False when it is all there.
    `work=False` leaves out the year of registers and records (about 15,000 rows), its
    evaluations and payments, for tests that need only the tenders, contracts and grid
    cases."""
    created = _load_organisations_and_users()
    if not _tender_exists(LINGYUAN_TENDER):
        _lingyuan_tender()
        created = True
    if not _cooperation_exists(LINGYUAN_TENDER):
        _lingyuan_cooperation()
        created = True
    if not _tender_exists(TRAINING_TENDER):
        _failed_training_tender()
        created = True
    from procurement.demo_grid_work import load_grid_work
    created = load_grid_work(LINGYUAN_COOPERATION) or created
    if work:
        from procurement.demo_disbursements import load_disbursements
        from procurement.demo_evaluations import load_evaluations
        from procurement.demo_service_work import load_service_work
        created = load_service_work(LINGYUAN_COOPERATION) or created
        created = load_evaluations(LINGYUAN_COOPERATION) or created
        created = load_disbursements(LINGYUAN_COOPERATION) or created
    return created


def _load_organisations_and_users() -> bool:
    exists = db.session.execute(
        sa.select(Organisation.id).where(Organisation.name == STREET_OFFICE)
    ).first()
    if exists:
        return False
    street_office = create_organisation(
        None, kind=OrgKind.STREET_OFFICE, name=STREET_OFFICE, short_name="灵源街道",
        region="福建省晋江市", address="福建省晋江市灵源街道灵源路 1 号",
        contact_person="蔡明辉", contact_phone="0595-85000000")
    create_community(None, street_office=street_office, name="林口社区", households=2150,
                     population=8600, grid_count=5)
    create_community(None, street_office=street_office, name="灵水社区", households=1860,
                     population=7400, grid_count=5)
    create_organisation(None, kind=OrgKind.UNIVERSITY, name="厦门大学公共事务学院",
                        short_name="厦大公共事务学院", region="福建省厦门市")
    for name, region in AGENCIES:
        create_organisation(None, kind=OrgKind.AGENCY, name=name, region=region)
    create_organisation(None, kind=OrgKind.GOVERNMENT, name="泉州市政府采购评审专家库",
                        short_name="评审专家库", region="福建省泉州市")
    create_organisation(None, kind=OrgKind.GOVERNMENT, name="晋江市审计局", region="福建省晋江市")
    db.session.flush()

    orgs = {o.name: o for o in db.session.execute(sa.select(Organisation)).scalars()}
    for username, name, org_name, roles, title in DEMO_USERS:
        create_user(None, username=username, name=name, org=orgs[org_name], roles=roles,
                    title=title, password=DEMO_PASSWORD, must_change_password=False)
    return True


# --- the 2016 tenders ------------------------------------------------------------------

LINGYUAN_TENDER = "ZB2016-001"
LINGYUAN_COOPERATION = "HT2016-001"
TRAINING_TENDER = "ZB2016-002"
LINGYUAN_WINNER = "深圳慈善公益网"

PLAN, TEAM, EXPERIENCE, PRICE = "服务方案", "团队配置", "项目经验", "投标报价"
LINGYUAN_CRITERIA = [
    CriterionSpec(PLAN, CriterionKind.SUBJECTIVE, Decimal(40), Decimal("0.40")),
    CriterionSpec(TEAM, CriterionKind.OBJECTIVE, Decimal(20), Decimal("0.20")),
    CriterionSpec(EXPERIENCE, CriterionKind.OBJECTIVE, Decimal(10), Decimal("0.10")),
    CriterionSpec(PRICE, CriterionKind.PRICE, Decimal(100), Decimal("0.30")),
]
# The committee: judge1 represents the purchaser, judge2-5 are drawn experts, judge2 chairs.
JUDGES = ["judge1", "judge2", "judge3", "judge4", "judge5"]
CHAIR = "judge2"
# A tie declared by one judge (实施条例 9): she does not score that bidder.
TIE = ("judge4", "厦门市鹭岛社会工作服务中心",
       "2014 年至 2015 年曾在该中心担任兼职督导，三年内存在劳务关系，申请回避。")


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment of 2016 in Beijing time."""
    return datetime(2016, month, day, hour, minute, tzinfo=SHANGHAI)


# (username of the agency's staff, agency, submitted at, price in yuan, proposal summary).
# In order of submission, which is the order of opening.
LINGYUAN_BIDS = [
    ("ludao", "厦门市鹭岛社会工作服务中心", at(3, 18, 10, 20), 742_000,
     "以个案管理为主线，重点服务两社区的留守老人与困境儿童，配备专职社工 6 名。"),
    ("cishan", "深圳慈善公益网", at(3, 21, 15, 0), 768_000,
     "以“社区营造”为框架，驻点林口、灵水两社区，专职社工 8 名、督导 1 名；开展长者关怀、"
     "外来务工人员融入、青少年成长三大板块服务，并培育社区社会组织与志愿者队伍。"),
    ("pengcheng", "深圳市鹏城社会工作服务中心", at(3, 22, 11, 0), 785_000,
     "以网格化服务为依托，每网格配备一名社工联络员，建立居民需求台账与季度回访制度。"),
    ("jinxin", "晋江市晋心社会工作服务中心", at(3, 23, 9, 40), 720_000,
     "本地机构，熟悉灵源街道情况，以家庭综合服务为重点，兼顾外来人口服务。"),
    ("tongxin", "厦门市同心社工服务社", at(3, 24, 16, 30), 600_000,
     "依托高校实习基地，以社工加实习生的方式控制人力成本，开展社区教育与邻里互助服务。"),
    ("qihang", "深圳市启航社工服务社", at(3, 25, 10, 0), 775_000,
     "以青少年与外来务工家庭为重点人群，开展“四点半课堂”、职业发展与亲子服务。"),
]
# 启航 replaced its bid with a lower price the day before the deadline.
LINGYUAN_REPLACEMENT = ("qihang", "深圳市启航社工服务社", at(3, 28, 14, 30), 760_000,
                        "以青少年与外来务工家庭为重点人群，开展“四点半课堂”、职业发展与亲子服务；"
                        "调整人员结构后重新报价。")
INVALID_BID = ("晋江市晋心社会工作服务中心",
               "未提供有效的社会服务机构登记证书及上一年度年检合格证明，不符合招标文件规定的"
               "投标人资格条件，资格审查不合格。")

# Objective scores (团队配置 / 20, 项目经验 / 10): the same from every judge, read off the
# bid documents.
OBJECTIVE_SCORES = {
    "深圳慈善公益网": (18, 9),
    "深圳市鹏城社会工作服务中心": (17, 8),
    "深圳市启航社工服务社": (15, 7),
    "厦门市鹭岛社会工作服务中心": (16, 6),
    "厦门市同心社工服务社": (14, 6),
}
# 服务方案 (/ 40), each judge in JUDGES order; None where the judge has a tie.
PLAN_SCORES = {
    1: {
        "深圳慈善公益网": (36, 35, 37, 36, 35),
        "深圳市鹏城社会工作服务中心": (34, 33, 33, 32, 34),
        "深圳市启航社工服务社": (30, 31, 29, 30, 31),
        "厦门市鹭岛社会工作服务中心": (29, 30, 28, None, 29),
        "厦门市同心社工服务社": (27, 26, 28, 27, 26),
    },
    # The second round follows each shortlisted agency's presentation and answers (答辩).
    2: {
        "深圳慈善公益网": (37, 36, 38, 37, 36),
        "深圳市鹏城社会工作服务中心": (34, 34, 33, 33, 35),
        "厦门市同心社工服务社": (26, 27, 27, 26, 27),
        "深圳市启航社工服务社": (30, 30, 30, 30, 30),
        "厦门市鹭岛社会工作服务中心": (29, 29, 29, None, 29),
    },
}
# judge3 typed 15 for 鹏城's team in round 1 where the documents give 17; corrected.
SLIP = ("judge3", "深圳市鹏城社会工作服务中心", 15)


def _tender_exists(number: str) -> bool:
    return db.session.execute(sa.select(Tender.id).where(Tender.number == number)).first() is not None


def _users(*usernames: str) -> dict[str, User]:
    users = {u.username: u for u in db.session.scalars(
        sa.select(User).where(User.username.in_(usernames)))}
    return users


def _orgs() -> dict[str, Organisation]:
    return {o.name: o for o in db.session.scalars(sa.select(Organisation))}


def _communities(street_office: Organisation) -> list[Community]:
    return list(db.session.scalars(sa.select(Community).where(
        Community.street_office_id == street_office.id).order_by(Community.name)))


@functools.cache
def _invitation_pdf(tender_id: int) -> bytes:
    # Rendered once per process: the demo is loaded by many tests.
    from procurement.documents.pdf import render_pdf

    tender = db.session.get(Tender, tender_id)
    return render_pdf("pdf/tender_invitation.html", tender=tender, title="投标邀请书")


def _pdf_with_text(text: str) -> bytes:
    """A one-page PDF (ASCII text), standing in for an agency's scanned certificates."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>stream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def _upload(name: str, data: bytes) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf")


def _lingyuan_tender() -> Tender:
    """The 2016 invited tender, step by step, each at its moment."""
    usernames = ["zhaobiao", *JUDGES, *(b[0] for b in LINGYUAN_BIDS)]
    users = _users(*usernames)
    orgs = _orgs()
    office = orgs[STREET_OFFICE]
    officer = users["zhaobiao"]
    agencies = [orgs[name] for name, _ in AGENCIES]

    with clock.frozen(at(3, 7, 9, 0)):
        tender = services.create_tender(
            officer, street_office=office, number=LINGYUAN_TENDER,
            title="灵源街道林口、灵水社区社会工作服务项目",
            description="为林口、灵水两社区购买社会工作服务：长者关怀、外来务工人员融入、"
                        "青少年成长及社区社会组织培育。服务期三年，按年度签订协议，"
                        "每社区每年服务经费 40 万元。",
            method=TenderMethod.INVITED, communities=_communities(office),
            budget_fen=2 * 400_000 * 100, ceiling_fen=None, deposit_fen=10_000 * 100,
            documents_until=at(3, 14).date(), bid_deadline=at(3, 29, 9, 30),
            large_impact=False, tie_break="technical", score_combination="mean",
            low_price_ratio=Decimal("0.80"), criteria=list(LINGYUAN_CRITERIA))
        services.invite(officer, tender, [a.id for a in agencies])
        services.attach_document(officer, tender, _upload("招标文件（投标邀请书及评分办法）.pdf",
                                                          _invitation_pdf(tender.id)))
        services.publish(officer, tender)

    for username, agency, moment, price, proposal in LINGYUAN_BIDS:
        with clock.frozen(moment):
            certificate = _upload("资格证明文件.pdf", _pdf_with_text(f"Qualification: {username}"))
            bidding.submit_bid(users[username], tender, orgs[agency], price_fen=price * 100,
                               proposal=proposal, uploads=[certificate])
    username, agency, moment, price, proposal = LINGYUAN_REPLACEMENT
    with clock.frozen(moment):
        # A replaced bid brings its files again: the sealed envelope is swapped whole.
        certificate = _upload("资格证明文件.pdf", _pdf_with_text(f"Qualification: {username} v2"))
        bidding.submit_bid(users[username], tender, orgs[agency], price_fen=price * 100,
                           proposal=proposal, uploads=[certificate])

    judges = [users[j] for j in JUDGES]
    with clock.frozen(at(3, 28, 16, 0)):
        evaluation.form_committee(officer, tender, judges=judges, chair=users[CHAIR])

    with clock.frozen(at(3, 29, 9, 30)):
        bidding.open_tender(officer, tender)
    with clock.frozen(at(3, 29, 10, 0)):
        for bid in tender.submitted_bids:
            invalid = bid.agency.name == INVALID_BID[0]
            bidding.review_qualification(officer, bid, valid=not invalid,
                                         reason=INVALID_BID[1] if invalid else None)
    with clock.frozen(at(3, 29, 10, 30)):
        first = evaluation.start_evaluation(officer, tender)

    seats = {m.judge.username: m for m in evaluation.members(tender)}
    with clock.frozen(at(3, 29, 10, 40)):
        for username in JUDGES:
            for bid in tender.valid_bids:
                tie = (username, bid.agency.name) == TIE[:2]
                evaluation.declare(users[username], seats[username], bid, has_tie=tie,
                                   description=TIE[2] if tie else None)

    # The abnormally low price (87号令 60): the bidder explains, the committee accepts.
    low = next(b for b in tender.valid_bids if b.low_price)
    with clock.frozen(at(3, 29, 11, 0)):
        bidding.explain_low_price(
            users["tongxin"], low,
            "我社依托高校社会工作实习基地，部分服务由督导带领的实习生承担，办公场地由合作高校"
            "无偿提供，人员成本较其他机构低；报价已包含全部专职社工的工资及社会保险，"
            "不低于成本，能够保证服务质量。附人员费用测算表。")
    with clock.frozen(at(3, 29, 11, 30)):
        bidding.decide_low_price(
            users[CHAIR], low, accept=True,
            note="经审阅书面说明及人员费用测算表，报价低于其他投标人平均水平的原因合理，"
                 "不影响服务质量和诚信履约，认定报价有效。")

    criteria = {c.name: c for c in tender.criteria}
    _score_round(tender, first, 1, seats, users, criteria, at(3, 29, 14, 0))
    judge, agency, typed = SLIP
    sheet = next(s for s in first.sheets
                 if s.member.judge.username == judge and s.bid.agency.name == agency)
    with clock.frozen(at(3, 29, 15, 40)):
        evaluation.correct_score(
            users[judge], sheet, criteria[TEAM].id, Decimal(OBJECTIVE_SCORES[agency][0]),
            reason=CorrectionReason.OBJECTIVE_INCONSISTENT,
            note=f"原录入 {typed} 分；经核对投标文件中的团队人员资质证明，与其他评委一致，"
                 f"应为 {OBJECTIVE_SCORES[agency][0]} 分。")
    with clock.frozen(at(3, 29, 16, 0)):
        evaluation.close_round(users[CHAIR], first, shortlist=3)

    second = evaluation.current_round(tender)
    _score_round(tender, second, 2, seats, users, criteria, at(3, 30, 9, 30))
    with clock.frozen(at(3, 30, 11, 0)):
        evaluation.close_round(users[CHAIR], second)

    ranking = evaluation.final_ranking(tender)
    order = "；".join(f"第{e.rank}名{e.bid.agency.name}（{e.final_score}分）" for e in ranking)
    with clock.frozen(at(3, 30, 15, 0)):
        award.submit_report(
            users[CHAIR], tender, seats[CHAIR],
            "评标委员会于2016年3月29日至30日按招标文件规定的综合评分法对通过资格审查的"
            f"{len(tender.valid_bids)}份投标进行了两轮评审：第一轮对全部有效投标评分，"
            "取前三名进入第二轮；第二轮在投标人现场陈述和答辩后重新评分。\n"
            "厦门市同心社工服务社报价明显低于其他投标报价，经其书面说明，评标委员会认定报价合理。"
            "一名评委声明与一家投标人存在利害关系，已回避对其评分。"
            "晋江市晋心社会工作服务中心资格审查不合格，未进入评分。\n"
            f"推荐中标候选人排序：{order}。")

    # The purchaser picks the first ranked (87号令 68): the notice runs one working day,
    # then the challenge window of seven working days.
    with clock.frozen(at(3, 31, 10, 0)):
        award.award(officer, tender, ranking[0].bid)

    runner_up = ranking[1].bid
    staff = next(b[0] for b in LINGYUAN_BIDS if b[1] == runner_up.agency.name)
    with clock.frozen(at(4, 6, 10, 0)):
        challenge = award.file_challenge(
            _users(staff)[staff], tender, runner_up,
            "我机构对服务方案的评分提出质疑：我机构的网格化服务设计完整、可操作性强，"
            "但服务方案得分明显低于中标人，请采购人复核评分是否符合招标文件的评分标准。")
    with clock.frozen(at(4, 12, 15, 0)):
        award.answer_challenge(
            officer, challenge, may_change_result=False,
            answer="经组织原评标委员会复核：各评委对服务方案的评分均在评分标准规定的分值范围内，"
                   "独立评分、汇总无误；中标人在服务方案、团队配置和项目经验方面得分均较高。"
                   "质疑事项不成立，维持原中标结果。")
    db.session.flush()
    return tender


def _score_round(tender, round_, number, seats, users, criteria, moment) -> None:
    """Each judge submits a sheet for each bid in the round, except where tied."""
    with clock.frozen(moment):
        for index, username in enumerate(JUDGES):
            member = seats[username]
            for entry in round_.entries:
                agency = entry.bid.agency.name
                plan = PLAN_SCORES[number][agency][index]
                if plan is None:
                    continue  # declared a tie: recused
                team, experience = OBJECTIVE_SCORES[agency]
                if number == 1 and (username, agency) == SLIP[:2]:
                    team = SLIP[2]
                evaluation.save_sheet(users[username], member, round_, entry.bid, {
                    criteria[PLAN].id: Decimal(plan), criteria[TEAM].id: Decimal(team),
                    criteria[EXPERIENCE].id: Decimal(experience)}, submit=True)


TRAINING_BIDS = [
    ("tongxin", "厦门市同心社工服务社", at(8, 15, 10, 0), 115_000,
     "分三期开展社区工作者专业能力培训，含个案、小组、社区工作方法及案例督导。"),
    ("jinxin", "晋江市晋心社会工作服务中心", at(8, 18, 15, 30), 108_000,
     "本地讲师团队，结合灵源街道案例，开展 12 次专题培训与 4 次实务督导。"),
]
TRAINING_FAILURE = ("投标截止时仅有 2 家供应商递交投标文件，不足 3 家，不得开标，依法废标"
                    "（政府采购法第三十六条、87号令第四十一条）。采购人将重新组织采购。")


def _failed_training_tender() -> Tender:
    """An open tender later in 2016 that only two agencies bid for: it fails (废标)."""
    users = _users("zhaobiao", *(b[0] for b in TRAINING_BIDS))
    orgs = _orgs()
    office = orgs[STREET_OFFICE]
    officer = users["zhaobiao"]
    with clock.frozen(at(8, 1, 9, 0)):
        tender = services.create_tender(
            officer, street_office=office, number=TRAINING_TENDER,
            title="灵源街道社区工作者专业能力培训服务项目",
            description="为林口、灵水两社区的社区工作者和网格员提供社会工作专业能力培训。",
            method=TenderMethod.OPEN, communities=_communities(office),
            budget_fen=120_000 * 100, ceiling_fen=None, deposit_fen=2_000 * 100,
            documents_until=at(8, 8).date(), bid_deadline=at(8, 23, 9, 30),
            large_impact=False, tie_break="technical", score_combination="mean",
            low_price_ratio=Decimal("0.80"), criteria=[
                CriterionSpec("培训方案", CriterionKind.SUBJECTIVE, Decimal(50), Decimal("0.50")),
                CriterionSpec("师资力量", CriterionKind.OBJECTIVE, Decimal(20), Decimal("0.20")),
                CriterionSpec(PRICE, CriterionKind.PRICE, Decimal(100), Decimal("0.30")),
            ])
        services.publish(officer, tender)
    for username, agency, moment, price, proposal in TRAINING_BIDS:
        with clock.frozen(moment):
            bidding.submit_bid(users[username], tender, orgs[agency], price_fen=price * 100,
                               proposal=proposal)
    with clock.frozen(at(8, 23, 9, 30)):
        services.close_bidding(officer, tender)
    with clock.frozen(at(8, 23, 9, 40)):
        services.fail(officer, tender, TRAINING_FAILURE)
    db.session.flush()
    return tender


# --- the Lingyuan cooperation (2016-05 .. 2019-04) --------------------------------------

UNIVERSITY = "厦门大学公共事务学院"
COOPERATION_TERM = (date(2016, 5, 1), date(2019, 4, 30))
COOPERATION_JUSTIFICATION = (
    "社区社会工作服务需要长期驻点、与居民建立稳定的信任关系，频繁更换服务机构将中断服务；"
    "服务经费已列入街道三年财政预算，资金有保障。按照“合作三年、一年一签”的方式，"
    "每年根据评估结果续签年度协议（102号令第二十四条）。")
AMOUNT_PER_COMMUNITY = 400_000  # yuan per community per year
# Each community's first-year budget, in yuan; it adds up to AMOUNT_PER_COMMUNITY.
FIRST_YEAR_BUDGET = {
    BudgetCategory.WAGES: 280_000,
    BudgetCategory.TAX: 24_000,
    BudgetCategory.SUPERVISION: 20_000,
    BudgetCategory.MANAGEMENT: 20_000,
    BudgetCategory.TRAINING: 16_000,
    BudgetCategory.ACTIVITIES: 32_000,
    BudgetCategory.EVALUATION: 8_000,
}
# Who signs for each party, and when (award notice 2016-03-31: due 2016-04-30).
CONTRACT_CREATED = at(4, 14, 9, 30)  # the day after the challenge window closed
AGREEMENT_SIGNATURES = [
    ("cishan", at(4, 18, 10, 0)),
    ("xiada", at(4, 19, 15, 0)),
    ("linkou", at(4, 20, 9, 30)),
    ("lingshui", at(4, 20, 10, 30)),
    ("lingdao", at(4, 22, 16, 0)),
]
AMENDMENT = ("林口社区", BudgetCategory.ACTIVITIES, BudgetCategory.TRAINING, 6_000,
             "林口社区外来务工人员较多，社区骨干和志愿者的培训需求超出年初预期；"
             "下半年部分大型社区活动改为小组活动，活动费有结余。经四方协商，"
             "将林口社区活动费 6,000 元调整至培训费，年度总金额不变。")
AMENDMENT_PROPOSED = at(10, 10, 10, 0)
AMENDMENT_SIGNATURES = [("cishan", at(10, 11, 9, 30)), ("xiada", at(10, 11, 14, 0)),
                        ("linkou", at(10, 12, 9, 0)), ("lingshui", at(10, 12, 10, 0)),
                        ("lingdao", at(10, 13, 16, 0))]
SPECIAL = dict(
    title="2016年台风“莫兰蒂”灾后入户排查",
    content="2016年9月15日第14号台风“莫兰蒂”正面袭击闽南。受上级部门委托，承包方组织社工和"
            "网格员对林口、灵水两社区开展灾后入户排查：逐户核查房屋受损、人员伤病和生活困难"
            "情况，建立受灾家庭台账；协助发放救灾物资，为独居老人、困境儿童等重点人群提供"
            "心理疏导和生活援助；排查结果每周报街道办事处。",
    start=date(2016, 9, 19), end=date(2016, 10, 31),
    budget={BudgetCategory.WAGES: 18_000, BudgetCategory.TAX: 1_800,
            BudgetCategory.SUPERVISION: 1_200, BudgetCategory.MANAGEMENT: 3_000,
            BudgetCategory.ACTIVITIES: 6_000})  # yuan: 30,000 in all
SPECIAL_CREATED = at(9, 18, 9, 0)  # a working Sunday after the Mid-Autumn holiday
SPECIAL_SIGNATURES = [("cishan", at(9, 18, 11, 0)), ("xiada", at(9, 18, 14, 0)),
                      ("linkou", at(9, 18, 15, 0)), ("lingshui", at(9, 18, 15, 30)),
                      ("lingdao", at(9, 18, 17, 0))]
CONTRACT_USERS = ["hetong", *(u for u, _ in AGREEMENT_SIGNATURES)]


def _cooperation_exists(number: str) -> bool:
    return db.session.execute(
        sa.select(Cooperation.id).join(Tender, Cooperation.tender_id == Tender.id)
        .where(Tender.number == number)).first() is not None


def _fen(budget: dict[BudgetCategory, int]) -> dict[BudgetCategory, int]:
    return {category: yuan * 100 for category, yuan in budget.items()}


def _sign(sign, document, users, signatures) -> None:
    for username, moment in signatures:
        with clock.frozen(moment):
            sign(users[username], document, document.content_hash)


def _lingyuan_cooperation() -> Cooperation:
    """The cooperation with 深圳慈善公益网, its first year signed by every party, one
    amendment and one special-service agreement."""
    users = _users(*CONTRACT_USERS)
    manager = users["hetong"]
    tender = db.session.scalar(sa.select(Tender).where(Tender.number == LINGYUAN_TENDER))
    start, end = COOPERATION_TERM
    with clock.frozen(CONTRACT_CREATED):
        cooperation = contracts.create_cooperation(
            manager, tender, university=_orgs()[UNIVERSITY], start_date=start, end_date=end,
            justification=COOPERATION_JUSTIFICATION,
            amount_per_community_fen=AMOUNT_PER_COMMUNITY * 100)
        agreement: Agreement = cooperation.agreements[0]
        ids = [c.community_id for c in agreement.communities]
        contracts.update_terms(
            manager, agreement, start_date=agreement.start_date, end_date=agreement.end_date,
            amounts={cid: AMOUNT_PER_COMMUNITY * 100 for cid in ids},
            budget={cid: _fen(FIRST_YEAR_BUDGET) for cid in ids})
        task_list.draw_up(manager, agreement)  # the Lingyuan service list, per community
    _sign(contracts.sign_agreement, agreement, users, AGREEMENT_SIGNATURES)

    with clock.frozen(SPECIAL_CREATED):
        special = contract_changes.create_special(
            manager, agreement, title=SPECIAL["title"], content=SPECIAL["content"],
            budget=_fen(SPECIAL["budget"]), start_date=SPECIAL["start"],
            end_date=SPECIAL["end"])
    _sign(contract_changes.sign_special, special, users, SPECIAL_SIGNATURES)

    name, source, target, yuan, reason = AMENDMENT
    budget = {}
    for line in agreement.budget_lines:
        budget.setdefault(line.community_id, {})[line.category] = line.amount_fen
    community_id = next(c.community_id for c in agreement.communities if c.community.name == name)
    budget[community_id][source] -= yuan * 100
    budget[community_id][target] += yuan * 100
    with clock.frozen(AMENDMENT_PROPOSED):
        amendment = contract_changes.propose_amendment(
            manager, agreement, reason=reason, end_date=agreement.end_date,
            amounts={c.community_id: c.amount_fen for c in agreement.communities},
            budget=budget)
    _sign(contract_changes.sign_amendment, amendment, users, AMENDMENT_SIGNATURES)
    db.session.flush()
    return cooperation
