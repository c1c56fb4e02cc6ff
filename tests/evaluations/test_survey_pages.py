"""The survey's pages through the client: the street office creates a survey, reads its
results, prints the QR sheet and closes it; readers read, outsiders are refused; a resident
answers on the public page without an account, once, with CSRF and a rate limit."""
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader
from pypdf.generic import ContentStream

from conftest import row_counts
from procurement.core import clock
from procurement.core.calendar import to_local
from procurement.evaluations import surveys
from procurement.evaluations.models import Survey, SurveyResponse, SurveyToken
from procurement.evaluations.states import SurveyState
from procurement.extensions import db

ALL_GOOD = {"attitude": "5", "timeliness": "4", "case_result": "4", "environment": "3",
            "overall": "5"}


@pytest.fixture
def survey(appraised):
    return surveys.create(appraised["manager"], appraised["quarter"], appraised["community"],
                          size=13, closes_at=clock.now() + timedelta(days=7))


def local_text(when) -> str:
    return to_local(when).strftime("%Y-%m-%dT%H:%M")


def new_form(a, **overrides):
    data = {"period": f"{a['agreement'].id}-quarter-1", "community": str(a["community"].id),
            "size": "", "closes_at": local_text(clock.now() + timedelta(days=10))}
    data.update(overrides)
    return data


def used(token):
    return db.session.scalar(sa.select(SurveyToken.used).where(SurveyToken.token == token))


# --- the street office's pages ------------------------------------------------------------------


def test_a_manager_creates_a_survey_sized_as_recommended_by_default(appraised, sign_in):
    client = sign_in(appraised["manager"])
    page = client.get("/surveys/new").get_data(as_text=True)
    assert appraised["agreement"].number in page and "建议至少 30 份" in page
    response = client.post("/surveys/new", data=new_form(appraised))
    assert response.status_code == 302, response.get_data(as_text=True)
    survey = db.session.scalars(sa.select(Survey)).one()
    assert response.headers["Location"].endswith(f"/surveys/{survey.id}")
    assert survey.size == 30 and survey.community_id == appraised["community"].id
    assert len(surveys.tokens_of(survey)) == 30


def test_the_new_survey_form_reads_full_width_digits(appraised, sign_in):
    client = sign_in(appraised["leader"])
    assert client.post("/surveys/new", data=new_form(appraised, size="１５")).status_code == 302
    assert db.session.scalars(sa.select(Survey)).one().size == 15


@pytest.mark.parametrize("overrides, message", [
    ({"size": "abc"}, "请填写整数"),
    ({"size": "2001"}, "1 到 2000"),
    ({"size": "0"}, "1 到 2000"),
    ({"closes_at": "明天"}, "请按“年-月-日 时:分”填写"),
    ({"closes_at": ""}, "请填写截止时间"),
    ({"closes_at": "2020-01-01T10:00"}, "截止时间应晚于现在"),
    ({"period": "999999-quarter-1"}, "选项无效"),
    ({"period": "x"}, "选项无效"),
    ({"community": "abc"}, "选项无效"),
    ({"community": "0"}, "请选择社区"),
])
def test_bad_input_on_the_new_survey_form_is_refused_with_a_message(appraised, sign_in,
                                                                    overrides, message):
    client = sign_in(appraised["manager"])
    before = row_counts(Survey, SurveyToken)
    response = client.post("/surveys/new", data=new_form(appraised, **overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert row_counts(Survey, SurveyToken) == before


def test_a_second_survey_for_the_community_is_refused_on_the_form(appraised, sign_in, survey):
    client = sign_in(appraised["manager"])
    response = client.post("/surveys/new", data=new_form(appraised, size="20"))
    assert "该社区本期已有满意度调查" in response.get_data(as_text=True)
    assert row_counts(Survey) == (1,)


def test_the_survey_page_shows_counts_bars_comments_and_the_too_few_warning(
        appraised, sign_in, survey):
    tokens = surveys.tokens_of(survey)
    surveys.answer(tokens[0], {**ALL_GOOD}, "希望多组织老年人活动。")
    surveys.answer(tokens[1], {**ALL_GOOD, "overall": "2"})
    db.session.commit()
    page = sign_in(appraised["manager"]).get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "2 份 / 共 13 个二维码" in page and "回收率 15.4%" in page
    assert "希望多组织老年人活动。" in page
    assert "少于按社区规模" in page and "建议的至少 13 份" in page  # 30, capped at 13 codes
    assert page.count("<svg") == len(surveys.QUESTIONS)
    assert "打印二维码" in page and "结束调查" in page
    for token in tokens:
        assert token not in page


def test_readers_see_the_results_but_only_the_street_office_prints_and_closes(
        appraised, sign_in, survey):
    for who in ("agency", "committee", "professor"):
        client = sign_in(appraised[who])
        page = client.get(f"/surveys/{survey.id}")
        assert page.status_code == 200, who
        assert "打印二维码" not in page.get_data(as_text=True)
        assert "结束调查" not in page.get_data(as_text=True)
        assert client.get(f"/surveys/{survey.id}/qr.pdf").status_code == 403, who
        assert client.post(f"/surveys/{survey.id}/close").status_code == 403, who
    assert db.session.get(Survey, survey.id).state is SurveyState.OPEN


@pytest.mark.parametrize("who", ["other_agency", "other_committee"])
def test_outsiders_can_neither_read_nor_list_a_survey(appraised, sign_in, survey, who):
    client = sign_in(appraised[who])
    assert client.get(f"/surveys/{survey.id}").status_code == 403
    assert client.get(f"/surveys/{survey.id}/responses.xlsx").status_code == 403
    page = client.get("/surveys/").get_data(as_text=True)
    assert appraised["community"].name not in page and "还没有满意度调查" in page


def test_the_list_shows_the_surveys_with_their_response_counts(appraised, sign_in, survey):
    surveys.answer(surveys.tokens_of(survey)[0], ALL_GOOD)
    db.session.commit()
    page = sign_in(appraised["agency"]).get("/surveys/").get_data(as_text=True)
    assert appraised["community"].name in page and "1 / 13" in page
    assert "发起调查" not in page  # the agency does not create surveys


def test_a_manager_closes_a_survey(appraised, sign_in, survey):
    client = sign_in(appraised["manager"])
    response = client.post(f"/surveys/{survey.id}/close")
    assert response.status_code == 302
    assert db.session.get(Survey, survey.id).state is SurveyState.CLOSED
    page = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "已结束" in page and "打印二维码" not in page


def pdf_text(data: bytes) -> str:
    """All text, without the line breaks that a narrow cell puts into a long URL."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def test_the_qr_sheet_holds_one_code_per_token_and_names_the_community(
        appraised, sign_in, survey):
    response = sign_in(appraised["manager"]).get(f"/surveys/{survey.id}/qr.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 2  # 13 codes, 12 to a page
    # WeasyPrint shares one resource dictionary between pages: count the images each page
    # draws, and the distinct images of the document.
    drawn = [[operands[0] for operands, op in ContentStream(page.get_contents(), reader).operations
              if op == b"Do"] for page in reader.pages]
    assert [len(names) for names in drawn] == [12, 1]
    assert len({name for names in drawn for name in names}) == 13
    assert len({image.name for page in reader.pages for image in page.images}) == 13
    text = pdf_text(response.data)
    assert appraised["community"].name in text and "居民满意度调查" in text
    for token in surveys.tokens_of(survey):
        assert f"/s/{token}" in text


def test_the_qr_sheet_is_only_printed_for_an_open_survey(appraised, sign_in, survey):
    surveys.close(appraised["manager"], survey)
    db.session.commit()
    response = sign_in(appraised["manager"]).get(f"/surveys/{survey.id}/qr.pdf")
    assert response.status_code == 409
    assert "不再打印二维码" in response.get_data(as_text=True)


def test_the_export_holds_the_anonymous_answers_and_nothing_else(appraised, sign_in, survey):
    tokens = surveys.tokens_of(survey)
    surveys.answer(tokens[0], ALL_GOOD, "=HYPERLINK(\"http://x\")")
    surveys.answer(tokens[1], {**ALL_GOOD, "attitude": "1"})
    db.session.commit()
    response = sign_in(appraised["leader"]).get(f"/surveys/{survey.id}/responses.xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(io.BytesIO(response.data)).active.values)
    assert rows[0] == ("序号", "社工服务态度", "服务及时性", "网格事件处理结果", "社区环境改善",
                       "总体满意度", "得分", "意见和建议")
    assert rows[1][:7] == (1, 5, 4, 4, 3, 5, 84)
    assert rows[1][7].startswith("'=")  # no formula injection
    assert rows[2][:7] == (2, 1, 4, 4, 3, 5, 68)
    flat = " ".join(str(v) for row in rows for v in row)
    assert not [t for t in tokens if t in flat]


# --- the residents' answer page --------------------------------------------------------------


def test_a_resident_answers_without_an_account_once(client, survey):
    token = surveys.tokens_of(survey)[0]
    db.session.commit()
    page = client.get(f"/s/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'name="viewport"' in html and "退出" not in html and "navbar" not in html
    assert all(str(q.text) in html for q in surveys.QUESTIONS)
    assert html.count('type="radio"') == 5 * len(surveys.QUESTIONS)
    assert page.headers["Cache-Control"] == "no-store"
    response = client.post(f"/s/{token}", data={**ALL_GOOD, "comment": "谢谢社工！"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/s/thanks")
    assert "感谢您的参与" in client.get("/s/thanks").get_data(as_text=True)
    assert used(token) is True
    assert db.session.scalars(sa.select(SurveyResponse)).one().comment == "谢谢社工！"
    again = client.get(f"/s/{token}")
    assert again.status_code == 410 and "已经填写过问卷" in again.get_data(as_text=True)
    before = row_counts(SurveyResponse)
    assert client.post(f"/s/{token}", data=ALL_GOOD).status_code == 410
    assert row_counts(SurveyResponse) == before


def test_an_answers_audit_entry_keeps_no_address_of_the_resident(client, survey):
    from procurement.audit.models import AuditEntry
    token = surveys.tokens_of(survey)[0]
    db.session.commit()
    client.post(f"/s/{token}", data=ALL_GOOD, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "survey.answer")).one()
    assert entry.ip is None and entry.actor_id is None
    assert token not in str(entry.after) and "10.1.2.3" not in str(entry.after)


def test_an_unknown_link_gets_a_friendly_page_not_an_error(client, survey):
    for token in ("nope", "A" * 22, "%E4%BD%A0%E5%A5%BD", "x" * 300):
        response = client.get(f"/s/{token}")
        assert response.status_code == 404, token
        assert "这个二维码无效" in response.get_data(as_text=True)
        assert client.post(f"/s/{token}", data=ALL_GOOD).status_code == 404


def test_a_closed_or_past_survey_says_so(appraised, client, survey):
    token = surveys.tokens_of(survey)[0]
    survey.closes_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(f"/s/{token}")
    assert response.status_code == 410 and "调查已结束" in response.get_data(as_text=True)
    survey.closes_at = clock.now() + timedelta(days=1)
    surveys.close(appraised["manager"], survey)
    db.session.commit()
    response = client.post(f"/s/{token}", data=ALL_GOOD)
    assert response.status_code == 410 and "调查已结束" in response.get_data(as_text=True)
    assert used(token) is False


@pytest.mark.parametrize("data, message", [
    ({**ALL_GOOD, "overall": "6"}, "选项无效"),
    ({**ALL_GOOD, "overall": "abc"}, "选项无效"),
    ({k: v for k, v in ALL_GOOD.items() if k != "overall"}, "请选择一项"),
    ({**ALL_GOOD, "comment": "长" * 501}, "不能超过 500 个字符"),
])
def test_bad_answers_on_the_page_are_shown_and_nothing_is_written(client, survey, data, message):
    token = surveys.tokens_of(survey)[0]
    db.session.commit()
    before = row_counts(SurveyResponse)
    response = client.post(f"/s/{token}", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert row_counts(SurveyResponse) == before and used(token) is False


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def test_csrf_protects_the_answer_page_and_works_for_an_anonymous_visitor(client, survey,
                                                                           csrf_on):
    token = surveys.tokens_of(survey)[0]
    db.session.commit()
    assert client.post(f"/s/{token}", data=ALL_GOOD).status_code == 400
    assert used(token) is False
    page = client.get(f"/s/{token}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/s/{token}", data={**ALL_GOOD, "csrf_token": csrf})
    assert response.status_code == 302
    assert used(token) is True


def test_answers_are_rate_limited(app, client, survey, monkeypatch):
    monkeypatch.setitem(app.config, "SURVEY_RATE_LIMIT", "3 per minute")
    codes = [client.post("/s/unknown-token-123456", data=ALL_GOOD).status_code
             for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert client.get(f"/s/{surveys.tokens_of(survey)[0]}").status_code == 200  # reading is not
