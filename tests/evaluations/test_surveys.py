"""The residents' satisfaction survey, service by service: one-time tokens, one answer per
token (also when answers race, on PostgreSQL), no way back from an answer to its token,
closed surveys and bad answers refused with nothing written, results and the too-few
warning, and who may create, close and read a survey."""
import json
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from conftest import Factory, at_once, row_counts
from procurement.accounts.roles import Role
from procurement.audit.models import AuditEntry
from procurement.audit.services import verify_chain
from procurement.contracts import rules
from procurement.contracts.models import AgreementCommunity
from procurement.contracts.states import EvaluationSource as Src
from procurement.core import clock
from procurement.core.calendar import SHANGHAI, local_today, now_utc
from procurement.core.errors import DomainError
from procurement.evaluations import plan, scoring, sheets, surveys
from procurement.evaluations.models import Survey, SurveyResponse, SurveyToken
from procurement.evaluations.states import SurveyState
from procurement.extensions import db
from procurement.orgs.models import OrgKind

ALL_GOOD = {"attitude": 5, "timeliness": 4, "case_result": 4, "environment": 3, "overall": 5}


def open_survey(a, size=40, closes_in=timedelta(days=7), period=None, community=None):
    return surveys.create(a["manager"], period or a["quarter"], community or a["community"],
                          size=size, closes_at=clock.now() + closes_in)


def tokens(survey):
    return surveys.tokens_of(survey)


def used(token):
    return db.session.scalar(sa.select(SurveyToken.used).where(SurveyToken.token == token))


# --- creating ---------------------------------------------------------------------------------


def test_a_survey_gets_as_many_unique_unguessable_tokens_as_its_size(appraised):
    survey = open_survey(appraised, size=40)
    found = tokens(survey)
    assert len(found) == len(set(found)) == 40
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", t) for t in found)
    assert survey.state is SurveyState.OPEN
    assert surveys.response_count(survey) == 0


def test_the_audit_trail_records_size_and_closing_but_never_a_token(appraised):
    survey = open_survey(appraised, size=12)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "survey.create")).one()
    assert entry.object_id == str(survey.id)
    assert entry.after["size"] == 12 and "closes_at" in entry.after
    text = json.dumps([entry.before, entry.after, entry.object_label], ensure_ascii=False)
    assert not [t for t in tokens(survey) if t in text]


def test_the_leader_may_create_a_survey_too(appraised):
    survey = surveys.create(appraised["leader"], appraised["quarter"], appraised["community"],
                            size=5, closes_at=clock.now() + timedelta(days=3))
    assert survey.created_by_id == appraised["leader"].id


@pytest.mark.parametrize("who", ["agency", "committee", "professor", "other_agency",
                                 "other_committee", "other_office"])
def test_only_the_agreements_street_office_may_create_a_survey(appraised, factory, who):
    actor = (factory.user(Role.CONTRACT_MANAGER, org=factory.org(OrgKind.STREET_OFFICE))
             if who == "other_office" else appraised[who])
    before = row_counts(Survey, SurveyToken, AuditEntry)
    with pytest.raises(DomainError, match="合同管理员或领导"):
        surveys.create(actor, appraised["quarter"], appraised["community"], size=5,
                       closes_at=clock.now() + timedelta(days=3))
    assert row_counts(Survey, SurveyToken, AuditEntry) == before


@pytest.mark.parametrize("size", [0, -1, 2001, "10", 10.0, True, None])
def test_the_size_must_be_a_whole_number_from_1_to_2000(appraised, size):
    before = row_counts(Survey, SurveyToken)
    with pytest.raises(DomainError, match="1 至 2000") as refused:
        open_survey(appraised, size=size)
    assert refused.value.field == "size"
    assert row_counts(Survey, SurveyToken) == before


def test_the_largest_survey_has_2000_distinct_tokens(appraised):
    survey = open_survey(appraised, size=2000)
    assert len(set(tokens(survey))) == 2000


def test_the_closing_time_must_be_in_the_future(appraised):
    with pytest.raises(DomainError, match="晚于现在") as refused:
        open_survey(appraised, closes_in=timedelta(minutes=-1))
    assert refused.value.field == "closes_at"


def test_the_closing_time_may_not_be_before_the_period_starts(appraised):
    later = plan.periods(appraised["agreement"])[3]  # the fourth quarter, months ahead
    assert later.start_date > local_today() + timedelta(days=7)
    with pytest.raises(DomainError, match="开始日期") as refused:
        open_survey(appraised, period=later, closes_in=timedelta(days=7))
    assert refused.value.field == "closes_at"
    start = datetime.combine(later.start_date, datetime.min.time(), tzinfo=SHANGHAI)
    assert surveys.create(appraised["manager"], later, appraised["community"], size=3,
                          closes_at=start + timedelta(days=20)).id


def test_a_community_outside_the_agreement_is_refused(appraised, factory):
    office = appraised["agreement"].cooperation.street_office
    elsewhere = factory.community(street_office=office)
    with pytest.raises(DomainError, match="服务范围") as refused:
        open_survey(appraised, community=elsewhere)
    assert refused.value.field == "community"


def test_one_survey_per_period_and_community(appraised):
    open_survey(appraised)
    before = row_counts(Survey, SurveyToken, AuditEntry)
    with pytest.raises(DomainError, match="已有满意度调查"):
        open_survey(appraised, size=10)
    assert row_counts(Survey, SurveyToken, AuditEntry) == before


def finalised(a):
    """The quarter's result made final on the street office's sheet alone."""
    period = a["quarter"]
    scores = {i.id: str(i.max_score) for i in
              plan.indicator_set(period.agreement, Src.STREET_OFFICE).indicators}
    sheet = sheets.save(a["manager"], period, a["community"], Src.STREET_OFFICE,
                        scores=scores, narrative="工作扎实。", opinions="")
    sheets.submit(a["manager"], sheet)
    return scoring.finalise(a["manager"], period, a["community"],
                            reweight_reason="其他来源未按时评分，按现有来源计算。")


def test_no_survey_once_the_periods_result_is_final(appraised):
    finalised(appraised)
    with pytest.raises(DomainError, match="已确定"):
        open_survey(appraised)


# --- answering --------------------------------------------------------------------------------


def test_a_response_scores_the_mean_of_its_answers_on_a_100_point_scale(appraised):
    survey = open_survey(appraised, size=3)
    first, second, _ = tokens(survey)
    assert surveys.answer(first, ALL_GOOD).score == Decimal("84.00")  # (100+80+80+60+100)/5
    low = {"attitude": 1, "timeliness": 2, "case_result": 3, "environment": 4, "overall": 4}
    assert surveys.answer(second, low).score == Decimal("56.00")
    assert scoring.survey_score(appraised["quarter"], appraised["community"]) == Decimal("70.00")
    assert scoring.source_scores(appraised["quarter"], appraised["community"])[
        Src.RESIDENTS] == Decimal("70.00")


def test_a_token_answers_once_and_a_second_answer_writes_nothing(appraised):
    survey = open_survey(appraised, size=2)
    token = tokens(survey)[0]
    surveys.answer(token, ALL_GOOD, "社工很热心。")
    assert used(token) is True
    before = row_counts(SurveyResponse, AuditEntry)
    with pytest.raises(DomainError, match="已经填写过"):
        surveys.answer(token, {**ALL_GOOD, "overall": 1})
    assert row_counts(SurveyResponse, AuditEntry) == before
    assert surveys.response_count(survey) == 1
    assert used(tokens(survey)[1]) is False  # the other token is untouched


@pytest.mark.parametrize("token", ["", "nope", "x" * 22, "../../etc/passwd", "a' OR '1'='1",
                                   "A" * 200, None])
def test_an_unknown_token_is_refused_with_a_clear_message(appraised, token):
    open_survey(appraised, size=2)
    before = row_counts(SurveyResponse, SurveyToken, AuditEntry)
    with pytest.raises(DomainError, match="二维码无效"):
        surveys.answer(token, ALL_GOOD)
    assert row_counts(SurveyResponse, SurveyToken, AuditEntry) == before


def test_a_closed_survey_refuses_answers_and_keeps_the_token_unspent(appraised):
    survey = open_survey(appraised, size=2)
    token = tokens(survey)[0]
    surveys.close(appraised["manager"], survey)
    with pytest.raises(DomainError, match="已结束"):
        surveys.answer(token, ALL_GOOD)
    assert used(token) is False and surveys.response_count(survey) == 0


def test_a_survey_past_its_closing_time_refuses_answers(appraised):
    survey = open_survey(appraised, size=2, closes_in=timedelta(days=2))
    token = tokens(survey)[0]
    with clock.frozen(survey.closes_at):
        with pytest.raises(DomainError, match="已结束"):
            surveys.answer(token, ALL_GOOD)
    with clock.frozen(survey.closes_at - timedelta(minutes=1)):
        surveys.answer(token, ALL_GOOD)
    assert surveys.response_count(survey) == 1


def test_answers_stop_once_the_periods_result_is_final(appraised):
    survey = open_survey(appraised, size=2)
    finalised(appraised)
    with pytest.raises(DomainError, match="已结束"):
        surveys.answer(tokens(survey)[0], ALL_GOOD)


@pytest.mark.parametrize("answers, message", [
    ({**ALL_GOOD, "overall": 6}, "回答无效"),
    ({**ALL_GOOD, "overall": 0}, "回答无效"),
    ({**ALL_GOOD, "overall": "非常满意"}, "回答无效"),
    ({**ALL_GOOD, "overall": "abc"}, "回答无效"),
    ({**ALL_GOOD, "overall": 4.5}, "回答无效"),
    ({**ALL_GOOD, "overall": True}, "回答无效"),
    ({**ALL_GOOD, "overall": "55"}, "回答无效"),
    ({**ALL_GOOD, "overall": ""}, "请回答"),
    ({k: v for k, v in ALL_GOOD.items() if k != "overall"}, "请回答"),
    ({}, "请回答"),
    ({**ALL_GOOD, "salary": 5}, "问卷内容不正确"),
    ([5, 5, 5, 5, 5], "请回答全部问题"),
])
def test_bad_answers_are_refused_and_spend_no_token(appraised, answers, message):
    survey = open_survey(appraised, size=1)
    token = tokens(survey)[0]
    before = row_counts(SurveyResponse, AuditEntry)
    with pytest.raises(DomainError, match=message):
        surveys.answer(token, answers)
    assert row_counts(SurveyResponse, AuditEntry) == before
    assert used(token) is False


def test_answers_typed_as_text_and_full_width_digits_are_read(appraised):
    survey = open_survey(appraised, size=1)
    response = surveys.answer(tokens(survey)[0], {**ALL_GOOD, "attitude": "５", "overall": " 4 "})
    assert response.answers == {**ALL_GOOD, "attitude": 5, "overall": 4}


def test_the_comment_is_optional_trimmed_and_at_most_500_characters(appraised):
    survey = open_survey(appraised, size=3)
    one, two, three = tokens(survey)
    with pytest.raises(DomainError, match="500"):
        surveys.answer(one, ALL_GOOD, "太" * 501)
    assert used(one) is False
    assert surveys.answer(one, ALL_GOOD, "  " + "好" * 500 + "\n").comment == "好" * 500
    assert surveys.answer(two, ALL_GOOD, "   ").comment is None
    assert surveys.answer(three, ALL_GOOD).comment is None


# --- anonymity ---------------------------------------------------------------------------------


def test_a_response_keeps_no_token_and_no_time():
    columns = SurveyResponse.__table__.columns
    assert set(columns.keys()) == {"id", "survey_id", "answers", "score", "comment"}
    assert {fk.column.table.name for c in columns for fk in c.foreign_keys} == {"surveys"}
    assert not [c for c in columns if isinstance(c.type, (sa.DateTime, sa.Date))]


def test_a_token_keeps_only_that_it_was_used():
    columns = SurveyToken.__table__.columns
    assert set(columns.keys()) == {"id", "survey_id", "token", "used"}
    assert {fk.column.table.name for c in columns for fk in c.foreign_keys} == {"surveys"}


def test_the_database_itself_has_no_link_between_responses_and_tokens(app):
    inspector = sa.inspect(db.session.get_bind())
    for table in ("survey_responses", "survey_tokens"):
        names = {c["name"] for c in inspector.get_columns(table)}
        assert names <= {"id", "survey_id", "answers", "score", "comment", "token", "used"}
        targets = {fk["referred_table"] for fk in inspector.get_foreign_keys(table)}
        assert targets == {"surveys"}


def test_the_audit_entry_of_an_answer_holds_no_token_no_answers_and_no_person(appraised):
    survey = open_survey(appraised, size=2)
    token = tokens(survey)[0]
    surveys.answer(token, {**ALL_GOOD, "overall": 2}, "楼道灯坏了很久没人修。")
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "survey.answer")).one()
    assert entry.actor_id is None
    assert entry.object_type == "surveys" and entry.object_id == str(survey.id)
    assert entry.before is None and entry.after == {"responses": 1}
    text = json.dumps([entry.before, entry.after, entry.object_label], ensure_ascii=False)
    assert token not in text and "楼道灯" not in text and "overall" not in text
    assert verify_chain().ok


# --- closing and results ------------------------------------------------------------------------


def test_only_the_street_office_closes_a_survey_and_only_once(appraised):
    survey = open_survey(appraised, size=2)
    with pytest.raises(DomainError, match="合同管理员或领导"):
        surveys.close(appraised["agency"], survey)
    surveys.close(appraised["leader"], survey)
    assert survey.state is SurveyState.CLOSED
    with pytest.raises(DomainError, match="已结束"):
        surveys.close(appraised["manager"], survey)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "survey.close")).one()
    assert entry.before == {"state": "open"} and entry.after["state"] == "closed"


@pytest.mark.parametrize("households, size, minimum", [
    (0, None, 30), (100, None, 30), (3000, None, 30), (3001, None, 31), (12_345, None, 124),
    (12_345, 80, 80), (100, 20, 20)])
def test_the_recommended_minimum_is_30_or_1_percent_of_households_capped_at_size(
        factory, households, size, minimum):
    community = factory.community(households=households)
    assert surveys.recommended_minimum(community, size) == minimum


def test_results_give_each_questions_mean_and_distribution_and_the_response_rate(appraised):
    survey = open_survey(appraised, size=8)
    given = [ALL_GOOD, {**ALL_GOOD, "attitude": 1},
             {"attitude": 3, "timeliness": 3, "case_result": 3, "environment": 3, "overall": 3}]
    for token, answers, comment in zip(tokens(survey), given, ["很满意", None, " "]):
        surveys.answer(token, answers, comment)
    found = surveys.results(survey)
    assert found.responses == 3
    assert found.rate == Decimal("37.5")
    attitude = found.questions[0]
    assert attitude.question.key == "attitude"
    assert attitude.counts == {1: 1, 2: 0, 3: 1, 4: 0, 5: 1}
    assert attitude.mean == Decimal("3.00") and attitude.score == Decimal("60.00")
    overall = found.questions[-1]
    assert overall.mean == Decimal("4.33") and overall.score == Decimal("86.67")
    assert found.score == scoring.survey_score(appraised["quarter"], appraised["community"])
    assert found.comments == ["很满意"]


def test_too_few_responses_for_the_communitys_size_are_warned_about(appraised):
    community = appraised["community"]
    community.households = 5000  # 1% → at least 50 responses
    survey = open_survey(appraised, size=60)
    for token in tokens(survey)[:3]:
        surveys.answer(token, ALL_GOOD)
    found = surveys.results(survey)
    assert found.minimum == 50
    assert "3 份" in found.warning and "50 份" in found.warning and "5000 户" in found.warning


def test_no_warning_once_enough_have_answered(appraised):
    survey = open_survey(appraised, size=30)
    for token in tokens(survey):
        surveys.answer(token, ALL_GOOD)
    assert surveys.results(survey).warning is None
    assert surveys.results(survey).rate == Decimal("100.0")


# --- who reads ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who, sees", [
    ("manager", True), ("leader", True), ("agency", True), ("committee", True),
    ("professor", True), ("other_agency", False), ("other_committee", False),
    ("other_office", False), ("auditor", True)])
def test_a_survey_is_read_by_the_agreements_readers_only(appraised, factory, who, sees):
    survey = open_survey(appraised, size=2)
    actor = {"other_office": lambda: factory.user(Role.LEADER,
                                                  org=factory.org(OrgKind.STREET_OFFICE)),
             "auditor": lambda: factory.user(Role.AUDITOR, org=factory.org(OrgKind.GOVERNMENT)),
             }.get(who, lambda: appraised[who])()
    assert surveys.can_view_survey(actor, survey) is sees
    listed = db.session.scalars(surveys.visible_surveys(actor)).all()
    assert (survey in listed) is sees


def test_a_committee_reads_only_its_own_communitys_survey(appraised, factory):
    agreement = appraised["agreement"]
    # A second community under the same agreement (set up directly: the tender builder
    # makes one-community tenders).
    other = factory.community(street_office=agreement.cooperation.street_office)
    agreement.communities.append(AgreementCommunity(community=other, amount_fen=40_000_000))
    db.session.flush()
    theirs = open_survey(appraised, size=2, community=other)
    ours = open_survey(appraised, size=2)
    committee = appraised["committee"]
    assert surveys.can_view_survey(committee, ours)
    assert not surveys.can_view_survey(committee, theirs)
    assert db.session.scalars(surveys.visible_surveys(committee)).all() == [ours]
    assert set(db.session.scalars(surveys.visible_surveys(appraised["agency"]))) == {ours, theirs}


# --- simultaneous answers (PostgreSQL) ------------------------------------------------------------


def _survey_committed(app, size=1):
    from contracts.contract_builder import ContractBuilder
    from tenders.tender_builder import TenderBuilder

    with app.app_context():
        tenders = TenderBuilder(Factory()).started(160)
        contracts = ContractBuilder(Factory(), tenders)
        month = local_today().replace(day=1)
        for _ in range(4):
            month = (month - timedelta(days=1)).replace(day=1)
        coop = contracts.cooperation(start_date=month, end_date=rules.year_end(month, 3))
        agreement = coop.agreements[0]
        contracts.sign_all(agreement)
        survey = surveys.create(contracts.manager, plan.periods(agreement)[0],
                                agreement.communities[0].community, size=size,
                                closes_at=now_utc() + timedelta(days=7))
        ids = {"survey": survey.id, "tokens": surveys.tokens_of(survey)}
        db.session.commit()
        return ids


def test_simultaneous_answers_with_one_token_give_exactly_one_response(committed_app):
    ids = _survey_committed(committed_app, size=2)
    token = ids["tokens"][0]

    results = at_once(committed_app, lambda i: surveys.answer(
        token, {**ALL_GOOD, "overall": 1 + i % 5}, f"第{i}份"))
    assert results.count("ok") == 1, results
    assert all(r == surveys.USED for r in results if r != "ok"), results
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.action == "survey.answer")) == 1
        assert db.session.scalar(sa.select(SurveyToken.used).where(
            SurveyToken.token == ids["tokens"][1])) is False
        assert verify_chain().ok


def test_simultaneous_answers_with_different_tokens_all_count(committed_app):
    ids = _survey_committed(committed_app, size=6)
    results = at_once(committed_app, lambda i: surveys.answer(ids["tokens"][i], ALL_GOOD), n=6)
    assert results == ["ok"] * 6, results
    with committed_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) == 6
        assert verify_chain().ok
