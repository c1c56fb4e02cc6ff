"""The street office's tender pages: creating and editing a draft, the list and its export,
the tender page at each stage, who may see it, and sealing on every one of these pages.

Pages run on the real clock (each request is its own context), so tenders are built with
the builder's start relative to now: start = now gives a tender still open for bids,
start = now − 30 days one whose deadline (day 22) has passed.
"""
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from conftest import row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.core.calendar import SHANGHAI
from procurement.extensions import db as _db
from procurement.orgs.models import OrgKind
from procurement.tenders.models import Criterion, Tender
from procurement.tenders.states import CriterionKind, TenderMethod, TenderState
from tender_builder import AGENCY_NAMES as NAMES, PDF, Upload

PRICES = (60_000_000, 64_000_000, 70_000_000, 75_000_000)
PRICE_TEXTS = ("600,000.00", "640,000.00", "700,000.00", "750,000.00")


def _counts():
    return row_counts(Tender, Criterion, AuditEntry)


def _local(dt) -> str:
    return dt.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


def _form(builder, **overrides) -> dict:
    start = builder.start
    data = {
        "title": "灵源街道社区综合服务项目", "description": "为三个社区提供社工服务",
        "method": "invited", "communities": [builder.community.id],
        "budget": "８０万", "ceiling": "75万元", "deposit": "１６,０００",
        "documents_until": (start + timedelta(days=21)).date().isoformat(),
        "bid_deadline": _local(start + timedelta(days=22)),
        "tie_break": "technical", "score_combination": "mean", "low_price_ratio": "0.80",
    }
    rows = [("服务方案", "subjective", "40", "40"), ("团队配置", "objective", "20", "20"),
            ("同类项目经验", "objective", "10", "10"), ("投标报价", "price", "100", "30")]
    for i in range(8):
        name, kind, max_score, weight = rows[i] if i < len(rows) else ("", "subjective", "", "")
        data.update({f"criteria-{i}-name": name, f"criteria-{i}-kind": kind,
                     f"criteria-{i}-max_score": max_score, f"criteria-{i}-weight": weight})
    data.update(overrides)
    return data


# --- creating and editing ----------------------------------------------------------------


def test_new_tender_form_starts_with_the_usual_criteria_and_explains_the_rules(sign_in, builder):
    client = sign_in(builder.officer)
    html = client.get("/tenders/new").get_data(as_text=True)
    for name in ("服务方案", "团队配置", "同类项目经验", "投标报价"):
        assert f'value="{name}"' in html
    assert 'value="30"' in html  # the price weight, typed as a percentage
    assert "87号令第三十九条" in html and "填 30 表示 30%" in html


def test_officer_creates_a_tender_with_full_width_and_wan_amounts(sign_in, live, db):
    client = sign_in(live.officer)
    response = client.post("/tenders/new", data=_form(live))
    assert response.status_code == 302, response.get_data(as_text=True)
    tender = db.session.scalar(sa.select(Tender).where(Tender.title == "灵源街道社区综合服务项目"))
    assert response.headers["Location"].endswith(f"/tenders/{tender.id}")
    assert (tender.budget_fen, tender.ceiling_fen, tender.deposit_fen) == (
        80_000_000, 75_000_000, 1_600_000)
    assert tender.state is TenderState.DRAFT and tender.street_office_id == live.office.id
    assert tender.opening_time == tender.bid_deadline
    assert _local(tender.bid_deadline) == _local(live.start + timedelta(days=22))
    assert [(c.name, c.kind, c.weight) for c in tender.criteria] == [
        ("服务方案", CriterionKind.SUBJECTIVE, Decimal("0.4")),
        ("团队配置", CriterionKind.OBJECTIVE, Decimal("0.2")),
        ("同类项目经验", CriterionKind.OBJECTIVE, Decimal("0.1")),
        ("投标报价", CriterionKind.PRICE, Decimal("0.3"))]  # blank rows ignored
    assert db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.seq.desc())
                             .limit(1)) == "tender.create"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "下一步" in page and "邀请" in page and "¥800,000.00" in page


@pytest.mark.parametrize("overrides, message", [
    ({"criteria-3-weight": "20"}, "各评分因素权重之和必须等于 100%，现为 90%"),
    ({"criteria-3-kind": "objective"}, "必须有且只有一项价格分"),
    ({"method": "consultation", "criteria-0-weight": "30", "criteria-3-weight": "40"},
     "在 10% 至 30% 之间"),
    ({"criteria-2-weight": ""}, "请填写权重"),
    ({"criteria-1-weight": "abc"}, "请填写数字"),
    ({**{f"criteria-{i}-{f}": "" for i in range(4) for f in ("name", "max_score", "weight")}},
     "请至少填写一项评分因素"),
    ({"deposit": "2万"}, "不得超过预算金额的 2%"),
    ({"ceiling": "90万"}, "不得超过预算金额"),
    ({"budget": "八十万零五毛"}, "无法识别的金额"),
    ({"bid_deadline": "明天上午"}, "年-月-日 时:分"),
])
def test_bad_tender_input_is_refused_with_the_message_and_nothing_is_written(
        sign_in, live, db, overrides, message):
    client = sign_in(live.officer)
    before = _counts()
    response = client.post("/tenders/new", data=_form(live, **overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts() == before


def test_communities_of_another_street_office_are_refused(sign_in, live, factory, db):
    client = sign_in(live.officer)
    other = factory.community()
    before = _counts()
    response = client.post("/tenders/new", data=_form(live, communities=[other.id]))
    assert response.status_code == 200 and "选项无效" in response.get_data(as_text=True)
    assert _counts() == before


def test_officer_edits_a_draft_and_the_form_shows_its_saved_values(sign_in, live, db):
    tender = live.draft()
    client = sign_in(live.officer)
    html = client.get(f"/tenders/{tender.id}/edit").get_data(as_text=True)
    assert 'value="800000.00"' in html and 'value="40"' in html and 'value="0.80"' in html
    response = client.post(f"/tenders/{tender.id}/edit",
                           data=_form(live, title="改过的名称", budget="100万"))
    assert response.status_code == 302
    db.session.refresh(tender)
    assert tender.title == "改过的名称" and tender.budget_fen == 100_000_000


def test_a_published_tender_cannot_be_edited(sign_in, live, db):
    tender = live.published()
    client = sign_in(live.officer)
    before = _counts()
    response = client.post(f"/tenders/{tender.id}/edit", data=_form(live, title="偷偷改"),
                           follow_redirects=True)
    assert "请在项目页发布澄清" in response.get_data(as_text=True)
    db.session.refresh(tender)
    assert tender.title != "偷偷改" and _counts() == before


# --- the list and the export ---------------------------------------------------------------


def test_the_list_shows_the_office_its_own_tenders_and_filters_them(sign_in, live, factory, db):
    mine = live.draft(title="本街道项目")
    published = live.published(title="本街道已发布项目")
    other_office = factory.org(OrgKind.STREET_OFFICE)
    other = factory.user(Role.TENDER_OFFICER, org=other_office)
    client = sign_in(live.officer)
    html = client.get("/tenders/").get_data(as_text=True)
    assert mine.number in html and published.number in html
    html = client.get("/tenders/?state=published").get_data(as_text=True)
    assert published.number in html and mine.number not in html
    html = client.get("/tenders/?q=已发布").get_data(as_text=True)
    assert published.number in html and mine.number not in html
    client = sign_in(other)
    html = client.get("/tenders/").get_data(as_text=True)
    assert mine.number not in html and published.number not in html


def test_a_contract_manager_sees_only_published_tenders_of_the_office(sign_in, live):
    draft = live.draft(title="草稿项目")
    published = live.published(title="发布项目")
    client = sign_in(live.witnesses[0])  # a contract manager of the office
    html = client.get("/tenders/").get_data(as_text=True)
    assert published.number in html and draft.number not in html
    assert client.get(f"/tenders/{draft.id}").status_code == 403
    assert client.get(f"/tenders/{published.id}").status_code == 200


def _sheet(response):
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    return rows[0], rows[1:]


def test_export_shows_bid_counts_but_never_prices_before_the_award(sign_in, past, db):
    tender = past.opened()
    client = sign_in(past.officer)
    headers, rows = _sheet(client.get("/tenders/export.xlsx"))
    assert headers[-3:] == ("投标数", "中标人", "中标金额（元）")
    row = next(r for r in rows if r[0] == tender.number)
    assert row[6] == 4 and row[7] is None and row[8] is None
    text = repr(rows)
    assert not any(name in text for name in NAMES)
    assert not any(str(Decimal(p) / 100) in text for p in PRICES[1:])


def test_export_shows_only_the_winner_and_winning_price_after_the_award(sign_in, past, db):
    tender = past.awarded()
    client = sign_in(past.officer)
    _, rows = _sheet(client.get(f"/tenders/export.xlsx?q={tender.number}"))
    assert len(rows) == 1
    assert rows[0][7] == tender.awarded_bid.agency.name
    assert Decimal(str(rows[0][8])) == Decimal(tender.awarded_bid.price_fen) / 100
    losers = [b.agency.name for b in tender.submitted_bids if b.id != tender.awarded_bid_id]
    assert not any(name in repr(rows) for name in losers)


# --- who may see the tender page ------------------------------------------------------------


def test_agency_admin_and_another_office_are_refused(sign_in, live, factory):
    tender = live.published()
    other_office = factory.org(OrgKind.STREET_OFFICE)
    for user in (live.agency_users[0], factory.user(Role.ADMIN, org=live.office)):
        client = sign_in(user)
        for url in (f"/tenders/{tender.id}", "/tenders/", "/tenders/export.xlsx"):
            assert client.get(url).status_code == 403, (user.roles, url)
        assert client.post(f"/tenders/{tender.id}/cancel",
                           data={"cancel-reason": "x"}).status_code == 403
    for user in (factory.user(Role.TENDER_OFFICER, org=other_office),
                 factory.user(Role.LEADER, org=other_office)):
        client = sign_in(user)
        assert client.get(f"/tenders/{tender.id}").status_code == 403, user.roles
        assert tender.number not in client.get("/tenders/").get_data(as_text=True)
        assert tender.number.encode() not in client.get("/tenders/export.xlsx").data
        assert client.post(f"/tenders/{tender.id}/cancel",
                           data={"cancel-reason": "x"}).status_code == 403
    _db.session.refresh(tender)
    assert tender.state is TenderState.PUBLISHED


def test_leader_and_auditor_read_but_cannot_act(sign_in, live, factory):
    tender = live.draft()
    readers = [factory.user(Role.LEADER, org=live.office),
               factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT))]
    for user in readers:
        client = sign_in(user)
        html = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
        assert tender.title in html
        assert "下一步" not in html and "/publish" not in html
        assert client.post(f"/tenders/{tender.id}/publish").status_code == 403
    _db.session.refresh(tender)
    assert tender.state is TenderState.DRAFT


# --- sealing ------------------------------------------------------------------------------


def _sealed_tender(live):
    tender = live.published(method=TenderMethod.OPEN)
    for index, price in enumerate(PRICES):
        live.bid(tender, index, price, days=0,
                 uploads=[Upload(f"绝密方案{index}.pdf", PDF)] if index == 0 else ())
    return tender


def test_before_opening_the_page_shows_only_how_many_bids_stand(sign_in, live, factory):
    tender = _sealed_tender(live)
    readers = [live.officer, factory.user(Role.LEADER, org=live.office),
               factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT)),
               live.witnesses[0]]
    for user in readers:
        client = sign_in(user)
        for url in (f"/tenders/{tender.id}", "/tenders/", f"/tenders/?q={tender.number}"):
            html = client.get(url).get_data(as_text=True)
            assert not any(name in html for name in NAMES), (user.roles, url)
            assert not any(price in html for price in PRICE_TEXTS), (user.roles, url)
            assert "绝密方案" not in html and "服务方案0" not in html
        html = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
        assert "已收到投标文件 4 份" in html
        export = client.get("/tenders/export.xlsx")
        assert not any(name.encode() in export.data for name in NAMES)


def test_after_opening_the_officer_sees_the_opening_record(sign_in, past):
    tender = past.opened()
    client = sign_in(past.officer)
    html = client.get(f"/tenders/{tender.id}").get_data(as_text=True)
    for name, price in zip(NAMES, PRICE_TEXTS):
        assert name in html and price in html
    assert "资格审查" in html and "请逐一完成资格审查" in html


def test_evaluation_report_pdf_is_only_for_opened_tenders(sign_in, live):
    sealed = _sealed_tender(live)
    client = sign_in(live.officer)
    assert client.get(f"/tenders/{sealed.id}/report.pdf").status_code == 403
    past = live.started(30)
    tender = past.awarded()
    response = client.get(f"/tenders/{tender.id}/report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    client = sign_in(past.witnesses[0])  # contract manager: reads the tender, not the report
    assert client.get(f"/tenders/{tender.id}/report.pdf").status_code == 403


def test_tender_documents_are_downloaded_by_those_who_may_see_the_tender(sign_in, live, factory):
    tender = live.draft(invite=3)
    client = sign_in(live.officer)
    response = client.post(f"/tenders/{tender.id}/documents",
                           data={"document-files": (io.BytesIO(PDF), "招标文件.pdf")})
    assert response.status_code == 302
    _db.session.refresh(tender)
    document = tender.documents[0]
    url = f"/tenders/{tender.id}/documents/{document.id}"
    assert client.get(url).data == PDF
    invited, uninvited = sign_in(live.agency_users[0]), sign_in(live.agency_users[5])
    assert invited.get(url).status_code == 403  # a draft is open to no agency
    assert client.post(f"/tenders/{tender.id}/publish").status_code == 302
    assert invited.get(url).data == PDF
    assert uninvited.get(url).status_code == 403
    outsider = factory.user(Role.TENDER_OFFICER, org=factory.org(OrgKind.STREET_OFFICE))
    assert sign_in(outsider).get(url).status_code == 403
    assert client.get(f"/tenders/{tender.id}/documents/{document.id + 1000}").status_code == 404
