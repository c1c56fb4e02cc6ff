"""The Lingyuan year in a real browser (issue 9): headless Debian chromium through
Playwright against a live server, each role signing in through the login form and doing its
part by clicking, in order: the tender officer publishes and invites; agencies bid; judges
score; the award; the four parties sign; the agency records its work and assesses itself;
the residents' committee rates; a resident answers the survey on a phone; finance pays the
quarter; the auditor verifies the audit trail.

The tests below are the steps of one journey and run in file order on one committed
database (a fresh SQLite file, or a fresh PostgreSQL database when TEST_DATABASE_URL is
set); a step whose predecessor did not pass is skipped. The business clock of every request
is the journey's `clock.now`, moved forward between steps, so deadlines pass without
waiting. A screenshot of each step lands in $TEST_ARTIFACTS (default
test-artifacts/browser/), with axe-core's findings on the main pages as JSON.
"""
import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_support import (CHROMIUM, PHONE, FrozenClock, Journey, chromium,  # noqa: E402
                             live_app, serve)
from procurement.core.calendar import SHANGHAI  # noqa: E402
from procurement.extensions import db as _db  # noqa: E402

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): run make browser")


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2016) -> datetime:
    """A moment of the Lingyuan year, Beijing time."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def journey(tmp_path_factory):
    from procurement.demo import _load_organisations_and_users

    with live_app(tmp_path_factory.mktemp("journey")) as app:
        with app.app_context():
            # The Lingyuan organisations and the demo accounts, as `flask demo` makes them;
            # everything the year does after this is done in the browser.
            _load_organisations_and_users()
            _db.session.commit()
        frozen = FrozenClock(app.wsgi_app, at(3, 7, 9, 0))
        app.wsgi_app = frozen
        with serve(app) as base, chromium() as browser:
            yield Journey(app, frozen, base, browser)


@pytest.fixture(autouse=True)
def step(request, journey, db, monkeypatch):
    """Run after the previous step passed; the live server uses the real session (the
    autouse `db` fixture swaps in a rolled-back one for ordinary tests)."""
    from conftest import _REAL_SESSION

    monkeypatch.setattr(_db, "session", _REAL_SESSION)
    # The steps in the order they are written (also when some were deselected).
    steps = [name for name in vars(request.module) if name.startswith("test_")]
    index = steps.index(request.node.name)
    if index and steps[index - 1] not in journey.passed:
        pytest.skip(f"the journey's previous step ({steps[index - 1]}) did not pass")
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed == failed:
        journey.passed.add(request.node.name)
    else:  # keep what each open browser showed when the step failed
        for actor in journey.open:
            name = f"FAILED-{request.node.name}-{actor.username or 'resident'}"
            journey.shot(actor.page, name)
            (journey.shots / f"{name}.html").write_text(actor.page.content(), encoding="utf-8")
    for actor in list(journey.open):
        actor.close()


# --- the year, step by step ---------------------------------------------------------------

TITLE = "灵源街道林口、灵水社区社会工作服务项目"
# (username, agency, price in yuan, the Beijing moment of submission); none abnormally low.
BIDS = [("cishan", "深圳慈善公益网", "768,000", at(3, 21, 15, 0)),
        ("pengcheng", "深圳市鹏城社会工作服务中心", "78.5万", at(3, 22, 11, 0)),
        ("qihang", "深圳市启航社工服务社", "７６００００", at(3, 25, 10, 0))]
JUDGES = ["judge1", "judge2", "judge3", "judge4", "judge5"]
CHAIR = "judge2"
# 服务方案 / 团队配置 / 同类项目经验, the same from every judge: 深圳慈善公益网 ranks first.
SCORES = {"深圳慈善公益网": ("36", "18", "9"), "深圳市鹏城社会工作服务中心": ("33", "17", "8"),
          "深圳市启航社工服务社": ("30", "15", "7")}


def a_pdf(name: str) -> dict:
    from procurement.demo import _pdf_with_text
    return {"name": name, "mimeType": "application/pdf",
            "buffer": _pdf_with_text(name.encode("ascii", "ignore").decode() or "file")}


def choose(select, text: str) -> None:
    """Pick the option of a <select> whose text contains `text`."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value=value)


def test_tender_officer_publishes_the_tender_and_invites_agencies(journey):
    journey.at(at(3, 7, 9, 0))
    officer = journey.sign_in("zhaobiao")
    officer.check_accessibility("home-tender-officer")
    officer.page.get_by_role("button", name="招标采购").click()
    officer.page.get_by_role("link", name="招标项目").first.click()
    officer.page.get_by_role("link", name="新建招标项目").click()
    page = officer.page
    page.get_by_label("项目名称").fill(TITLE)
    page.get_by_label("项目概况").fill("为林口、灵水两社区购买社会工作服务：长者关怀、外来务工人员融入、"
                                   "青少年成长。服务期三年，按年度签订协议，每社区每年 40 万元。")
    page.get_by_label("采购预算（元）").fill("80万")
    page.get_by_label("招标文件提供截止日").fill("2016-03-14")
    page.get_by_label("投标截止及开标时间（北京时间）").fill("2016-03-29T09:30")
    officer.click("保存")
    officer.expect_flash("已创建招标项目 ZB2016-001（草稿）")
    journey.found["tender"] = tender_id = int(page.url.rstrip("/").rsplit("/", 1)[1])

    page.get_by_label("招标文件").set_input_files(a_pdf("invitation.pdf"))
    officer.click("上传")
    officer.expect_flash("已上传“invitation.pdf”")
    page.get_by_label("邀请机构").select_option(
        label=[f"{name}（深圳）" for _, name, _, _ in BIDS])
    officer.click("加入邀请名单")
    officer.expect_flash("已将 3 家机构加入邀请名单")
    officer.click("发布", exact=True)
    officer.expect_flash("已发布。投标截止并开标时间：2016-03-29 09:30")
    assert page.locator("h1 .badge").first.inner_text() == "已发布"
    assert tender_id and "邀请书" in officer.text()
    officer.shot("tender-published")
    officer.check_accessibility("tender-page")


def test_invited_agencies_submit_sealed_bids(journey):
    for username, agency, price, moment in BIDS:
        journey.at(moment)
        staff = journey.sign_in(username)
        staff.page.get_by_role("link", name="投标").first.click()
        staff.page.get_by_role("link", name="递交投标").first.click()
        staff.page.get_by_label("投标报价（元）").fill(price)
        staff.page.get_by_label("技术方案（服务方案）概要").fill(
            f"{agency}：驻点林口、灵水两社区，开展长者关怀、外来务工人员融入和青少年成长服务。")
        staff.page.get_by_label("附件").set_input_files(a_pdf("qualification.pdf"))
        staff.click("递交投标文件")
        staff.expect_flash("投标文件已递交（第 1 版，附件 1 个）")
        if username == "cishan":
            staff.shot("bid-submitted")
        staff.close()


def test_the_committee_scores_the_bids(journey):
    tender_id = journey.found["tender"]
    journey.at(at(3, 28, 16, 0))
    officer = journey.sign_in("zhaobiao")
    page = officer.page
    officer.goto(f"/tenders/{tender_id}")
    # Sealed until the opening: the officer sees how many bids came, nothing more.
    assert "已收到投标文件 3 份。" in officer.text()
    assert "¥768,000.00" not in officer.text()
    for name in ("苏国栋", "杨慧敏", "方志诚", "谢婉清", "曾庆余"):
        page.get_by_label(name).check()
    choose(page.get_by_label("组长"), "杨慧敏")
    officer.click("保存评标委员会")
    officer.expect_flash("已组建评标委员会，共 5 人")

    journey.at(at(3, 29, 9, 30))
    officer.goto(f"/tenders/{tender_id}")
    officer.click("开标", exact=True)
    officer.expect_flash("已开标")
    assert "¥768,000.00" in officer.text()  # the opening record reads the prices out
    for _, agency, _, _ in BIDS:
        officer.click("保存", within=page.locator("tr", has_text=agency))
        officer.expect_flash(f"已将{agency}认定为合格")
    officer.click("开始评标")
    officer.expect_flash("评标开始，第 1 轮评分已开启")
    officer.shot("bids-opened")
    officer.close()

    journey.at(at(3, 29, 10, 40))
    for username in JUDGES:
        judge = journey.sign_in(username)
        page = judge.page
        # The home page's to-do list leads to the tender.
        page.get_by_role("link", name="待作出回避声明").click()
        for _, agency, _, _ in BIDS:
            card = page.locator(".card", has_text=agency)
            card.get_by_label("与该投标人是否存在利害关系").select_option("no")
            judge.click("提交声明", within=card)
            judge.expect_flash(f"已声明与“{agency}”不存在利害关系。")
        for _, agency, _, _ in BIDS:  # each submitted sheet leads back to the tender
            page.locator("tr", has_text=agency).get_by_role("link", name="评分").click()
            for label, value in zip(("服务方案", "团队配置", "同类项目经验"), SCORES[agency]):
                page.get_by_label(label).fill(value)
            judge.click("提交", exact=True)
            judge.expect_flash("评分表已提交。")
        if username == CHAIR:
            judge.shot("sheets-submitted")
        judge.close()

    chair = journey.sign_in(CHAIR)
    chair.page.get_by_role("link", name="可以结束").click()
    chair.click("结束本轮")
    chair.expect_flash("第1轮已结束，本轮排序为最终结果")
    ranking = chair.page.locator("table", has=chair.page.get_by_role(
        "columnheader", name="最终得分")).locator("tbody tr")
    assert [r.split("\t")[:2] for r in ranking.all_inner_texts()] == [
        ["1", "深圳慈善公益网"], ["2", "深圳市鹏城社会工作服务中心"], ["3", "深圳市启航社工服务社"]]
    chair.page.get_by_label("评审意见").fill(
        "评标委员会按招标文件规定的综合评分法对 3 份有效投标评分。"
        "推荐中标候选人排序：深圳慈善公益网、深圳市鹏城社会工作服务中心、深圳市启航社工服务社。")
    chair.click("提交评标报告")
    chair.expect_flash("评标报告已提交")
    chair.shot("report-submitted")


def test_the_tender_officer_awards_the_first_ranked_agency(journey):
    journey.at(at(3, 31, 10, 0))
    officer = journey.sign_in("zhaobiao")
    officer.page.get_by_role("link", name="待确定中标人").click()
    choose(officer.page.get_by_label("中标人"), "深圳慈善公益网")
    officer.click("确定中标人并发布中标公告")
    officer.expect_flash("已确定深圳慈善公益网为中标人并发布中标公告")
    officer.shot("awarded")


def test_the_four_parties_sign_the_first_annual_agreement(journey):
    # The challenge window (seven working days after the notice) has closed.
    journey.at(at(4, 14, 9, 30))
    manager = journey.sign_in("hetong")
    page = manager.page
    manager.goto("/contracts/")
    page.get_by_role("link", name="建立合作").click()
    choose(page.get_by_label("调研提升方（高校）"), "厦门大学公共事务学院")
    page.get_by_label("合作开始日期").fill("2016-05-01")
    page.get_by_label("合作结束日期").fill("2019-04-30")
    page.get_by_label("合作期超过 1 年的理由").fill(
        "社区社会工作服务需要长期驻点、与居民建立稳定的信任关系；服务经费已列入街道三年财政预算。"
        "按照“合作三年、一年一签”的方式，每年根据评估结果续签年度协议。")
    manager.click("建立合作并起草第一年度协议")
    manager.expect_flash("已建立合作 ")
    page.get_by_role("link", name="HT2016-001-1").click()
    journey.found["agreement"] = agreement_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    manager.goto(f"/work/{agreement_id}")
    manager.click("编制服务清单")
    manager.expect_flash("已编制服务清单")
    manager.close()

    signers = [("cishan", at(4, 18, 10, 0)), ("xiada", at(4, 19, 15, 0)),
               ("linkou", at(4, 20, 9, 30)), ("lingshui", at(4, 20, 10, 30)),
               ("lingdao", at(4, 22, 16, 0))]
    for username, moment in signers:
        journey.at(moment)
        party = journey.sign_in(username)
        party.goto(f"/contracts/agreements/{agreement_id}")
        party.click("签署本版本")
        party.expect_flash("已代表")
        if username != "lingdao":
            party.close()
    party.expect_flash("各方均已签署，协议已生效")
    party.shot("agreement-in-force")
    party.check_accessibility("agreement-page")


LINKOU = "林口社区"
# Indicator labels of the default sets (procurement/evaluations/plan.py) and the scores typed.
SELF_SCORES = {"服务清单任务完成情况": "36", "服务规范与居民反馈": "27", "团队建设、督导与培训": "27"}
COMMITTEE_SCORES = {"社工在岗与驻点情况": "28", "居民意见与投诉处理": "27", "与居委会的协作": "19",
                    "熟悉社区、居民认可": "18"}
UNIVERSITY_SCORES = {"个案、小组、社区工作方法的运用": "27", "服务记录完整规范": "18",
                     "需求调研与服务设计": "18", "目标达成与服务成效": "27"}
OFFICE_SCORES = {"服务清单任务完成情况": "27", "服务规范与成效": "23", "人员配备、考勤与培训": "14",
                 "经费使用规范": "14", "与街道、社区的沟通配合": "14"}


def fill_sheet(actor, scores: dict, texts: dict) -> None:
    """On "我的评分": open 林口's first-quarter sheet, type the scores and texts, submit."""
    page = actor.page
    actor.goto("/evaluations/sheets/")
    row = page.locator("tr", has_text=LINKOU).filter(has_text="第一季度")
    row.get_by_role("link", name="填写").click()
    for label, value in scores.items():
        page.get_by_label(label, exact=True).fill(value)
    for label, value in texts.items():
        page.get_by_label(label).fill(value)
    actor.click("提交", exact=True)
    actor.expect_flash("评分表已提交。")


def test_the_agency_records_its_work_and_assesses_its_quarter(journey):
    journey.at(at(7, 20, 17, 0))
    worker = journey.sign_in("cishan")
    page = worker.page
    page.get_by_role("button", name="网格工作").click()
    page.get_by_role("link", name="工作记录").first.click()
    page.get_by_role("link", name="填写记录").click()
    choose(page.get_by_label("社区"), LINKOU)
    page.get_by_label("记录类型").select_option(label="社区活动")
    with page.expect_navigation():
        page.get_by_role("button", name="下一步").click()
    page.get_by_label("日期").fill("2016-07-20")
    page.get_by_label("主题").fill("“清凉一夏”外来务工人员子女暑期课堂")
    page.get_by_label("参加人数").fill("36")
    worker.click("保存", exact=True)
    worker.expect_flash("已保存工作记录。")
    worker.shot("work-recorded")
    worker.goto("/records/")
    assert "清凉一夏" in worker.page.locator("main table").inner_text()
    worker.check_accessibility("records-list")
    worker.close()

    # The first quarter (May to July) has ended; the self-assessment is due ten working
    # days later.
    journey.at(at(8, 3, 10, 0))
    worker = journey.sign_in("cishan")
    # Its completion table (from the task list and this journey's one record) is filled in
    # by the system; a quarter of records is not needed for the steps that follow.
    fill_sheet(worker, SELF_SCORES,
               {"自评报告": "本季度完成两社区驻点和入户走访，开展暑期课堂等社区活动。"})
    worker.shot("self-assessment-submitted")


def test_the_residents_committee_rates_its_community(journey):
    journey.at(at(8, 4, 15, 0))
    committee = journey.sign_in("linkou")
    fill_sheet(committee, COMMITTEE_SCORES,
               {"评价意见": "社工每周驻点，居民有事找得到人；暑期课堂反映良好。",
                "本季度收集的居民意见": "希望增加老年人健康讲座；暑期课堂名额不够。"})
    committee.shot("committee-rated")


def test_a_resident_answers_the_survey_on_a_phone(journey):
    from io import BytesIO
    import re
    from pypdf import PdfReader

    journey.at(at(8, 5, 9, 0))
    manager = journey.sign_in("hetong")
    page = manager.page
    manager.goto("/surveys/")
    page.get_by_role("link", name="发起调查").click()
    choose(page.get_by_label("评估期间"), "第一季度")
    choose(page.get_by_label("社区"), LINKOU)
    page.get_by_label("问卷份数（二维码个数）").fill("2")
    page.get_by_label("截止时间").fill("2016-08-12T18:00")
    manager.click("生成二维码并发起")
    manager.expect_flash("已发起林口社区第一季度的满意度调查，共 2 个二维码。")
    # The printed sheet of QR codes: each code's link is printed under it.
    # (Fetched with the manager's session: headless chromium shows a PDF in its viewer.)
    sheet = page.request.get(journey.base + page.get_by_role("link", name="打印二维码")
                             .get_attribute("href"))
    assert sheet.ok and sheet.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(BytesIO(sheet.body())).pages)
    links = re.findall(r"/s/([A-Za-z0-9_-]{22})", re.sub(r"\s+", "", text))
    assert len(links) == 2, text
    manager.close()

    journey.at(at(8, 5, 20, 30))
    resident = journey.phone()
    phone = resident.page
    resident.goto(f"/s/{links[0]}")
    assert phone.get_by_role("heading", name="居民满意度调查").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    resident.check_accessibility("survey-page")
    for question in phone.locator("fieldset").all():
        question.locator("label", has_text="非常满意").click()
    phone.get_by_label("意见和建议（选填）").fill("社工上门很及时，谢谢！")
    resident.click("提交问卷")
    assert phone.get_by_text("感谢您的参与").first.is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    resident.shot("survey-answered-on-phone")


def test_the_street_office_and_the_university_complete_the_quarter(journey):
    journey.at(at(8, 9, 10, 0))
    professor = journey.sign_in("xiada")
    fill_sheet(professor, UNIVERSITY_SCORES,
               {"评价意见": "抽查入户和活动记录规范；需求评估完整，服务设计回应居民需求。"})
    professor.close()

    journey.at(at(8, 10, 10, 0))
    manager = journey.sign_in("hetong")
    page = manager.page
    fill_sheet(manager, OFFICE_SCORES, {"评价意见": "按清单推进，团队稳定，经费使用规范。"})
    manager.goto("/evaluations/sheets/")
    page.locator("tr", has_text=LINKOU).get_by_role("link", name="审核").click()
    manager.click("审核通过")
    manager.expect_flash("机构自评已审核通过。")
    agreement_id = journey.found["agreement"]
    manager.goto(f"/evaluations/{agreement_id}")
    manager.click("确定评估结果", within=page.locator(f"section:has(h2:text-is('{LINKOU}'))"))
    # 30% × 92 (street office) + 20% × 92 (committee) + 30% × 90 (university) + 20% × 100
    # (the one resident's answers).
    manager.expect_flash("已确定林口社区第一季度的评估结果：综合得分 93.00，优秀。")
    manager.shot("quarter-finalised")
    manager.check_accessibility("evaluation-page")


def test_finance_pays_the_quarter(journey):
    agreement_id = journey.found["agreement"]
    journey.at(at(8, 15, 9, 0))
    manager = journey.sign_in("hetong")
    page = manager.page
    manager.goto(f"/disbursements/{agreement_id}")
    page.locator("section", has_text=LINKOU).get_by_role("link", name="第 1 期").first.click()
    journey.found["instalment"] = page.url
    manager.click("申请拨付")
    manager.expect_flash("已申请拨付。")
    manager.close()

    journey.at(at(8, 15, 15, 0))
    leader = journey.sign_in("lingdao")
    leader.page.goto(journey.found["instalment"])
    leader.click("审批通过")
    leader.expect_flash("已审批拨付。")
    leader.close()

    journey.at(at(8, 16, 10, 0))
    finance = journey.sign_in("caiwu")
    page = finance.page
    page.goto(journey.found["instalment"])
    page.get_by_label("拨付日期").fill("2016-08-16")
    page.get_by_label("拨付凭证号").fill("LY2016-0816-01")
    finance.click("登记拨付")
    finance.expect_flash("已登记拨付。")
    assert finance.page.locator("h1 .badge").inner_text() == "已拨付"
    assert "¥100,000.00（人民币壹拾万元整）" in finance.text()
    finance.shot("quarter-paid")
    finance.goto(f"/disbursements/{agreement_id}")
    finance.check_accessibility("ledger")


def test_the_auditor_verifies_the_audit_trail(journey):
    import sqlalchemy as sa
    from procurement.audit.models import AuditEntry

    journey.at(at(8, 20, 10, 0))
    auditor = journey.sign_in("shenji")
    page = auditor.page
    page.get_by_role("button", name="审计", exact=True).click()
    page.get_by_role("link", name="审计日志").click()
    # The finance officer's latest entry is the payment she registered.
    page.get_by_label("操作人").fill("黄丽娟")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    newest = page.locator("main table tbody tr").first.inner_text()
    assert "登记拨付" in newest and "黄丽娟" in newest, newest
    auditor.check_accessibility("audit-page")
    page.get_by_role("link", name="核验审计链").click()
    with journey.app.app_context():
        entries = _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    verdict = page.locator("main .alert-success")
    assert verdict.inner_text().strip() == f"审计链完整：已核验 {entries} 条记录。"
    auditor.shot("audit-verified")
