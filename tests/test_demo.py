"""The Lingyuan demo: organisations from the field study, one login per role, the 2016
tenders replayed through the real services, and the cooperation the award became."""
import io
import re
from datetime import date

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit import verify_chain
from procurement.audit.models import AuditEntry
from procurement.contracts import signing
from procurement.contracts.models import (Agreement, AgreementCommunity, AgreementParty,
                                          Amendment, BudgetLine, Cooperation, Signature,
                                          SpecialAgreement, SubContract)
from procurement.contracts.rules import sign_due
from procurement.contracts.states import (BudgetCategory, CooperationState, DocumentState,
                                          PartyRole)
from procurement.core.calendar import is_working_day
from procurement.demo import (DEMO_PASSWORD, DEMO_USERS, LINGYUAN_TENDER, TRAINING_TENDER,
                              load_demo)
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.documents.models import StoredFile
from procurement.evaluations.models import EvaluationPeriod, IndicatorSet
from procurement.orgs.models import Community, OrgKind, Organisation
from procurement.tasks.models import GridCase, ServiceTask, TeamMember
from procurement.tenders import award, evaluation, rules
from procurement.tenders.evaluation_models import (CommitteeMember, Declaration, EvaluationRound,
                                                   RoundEntry, Score, ScoreCorrection, ScoreSheet)
from procurement.tenders.models import (Bid, BidFile, Challenge, Criterion, Invitation, Tender,
                                        TenderDocument)
from procurement.tenders.states import (ChallengeState, LowPriceDecision, SheetState,
                                        TenderMethod, TenderState)

ALL_TABLES = (Organisation, Community, User, AuditEntry, StoredFile, Tender, Criterion,
              Invitation, Bid, Challenge, CommitteeMember, Declaration, EvaluationRound,
              RoundEntry, ScoreSheet, Score, ScoreCorrection, Cooperation, Agreement,
              AgreementParty, AgreementCommunity, BudgetLine, SubContract, Amendment,
              SpecialAgreement, Signature, GridCase, TeamMember, ServiceTask)
CONTRACT_TABLES = (Cooperation, Agreement, AgreementParty, AgreementCommunity, BudgetLine,
                   SubContract, Amendment, SpecialAgreement, Signature)


@pytest.fixture
def demo(db):
    assert load_demo(work=False) is True
    db.session.flush()


def test_demo_has_lingyuan_street_office_communities_and_grids(demo, db):
    office = db.session.scalar(sa.select(Organisation).where(Organisation.name == "晋江市灵源街道办事处"))
    communities = db.session.scalars(sa.select(Community).where(Community.street_office_id == office.id)
                                     .order_by(Community.name)).all()
    assert {c.name for c in communities} == {"林口社区", "灵水社区"}
    for community in communities:
        assert community.committee.name == f"{community.name}居民委员会"
        assert len(community.grids) == 5


def test_demo_has_the_university_and_six_agencies(demo, db):
    agencies = db.session.scalars(sa.select(Organisation.name).where(Organisation.kind == OrgKind.AGENCY)).all()
    assert len(agencies) == 6 and "深圳慈善公益网" in agencies
    assert db.session.scalar(sa.select(Organisation).where(Organisation.name == "厦门大学公共事务学院")).kind is OrgKind.UNIVERSITY


def test_demo_has_a_user_for_every_role(demo, db):
    roles = {row.role for user in db.session.scalars(sa.select(User)) for row in user.role_rows}
    assert roles == set(Role)


def test_demo_loads_only_once(demo, db):
    counts = row_counts(*ALL_TABLES)
    last_hash = db.session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.seq.desc()))
    assert load_demo(work=False) is False
    db.session.flush()
    assert row_counts(*ALL_TABLES) == counts
    assert db.session.scalar(sa.select(AuditEntry.hash).order_by(AuditEntry.seq.desc())) == last_hash


def test_demo_adds_the_tenders_to_a_database_that_has_only_the_older_demo(demo, db):
    """A database loaded before the tenders existed gets them on the next run, once."""
    for number in (LINGYUAN_TENDER, TRAINING_TENDER):
        assert tender(db, number) is not None
    organisations, users = row_counts(Organisation, User)
    _delete_tenders(db)
    assert load_demo(work=False) is True
    assert row_counts(Organisation, User) == (organisations, users)
    assert tender(db, LINGYUAN_TENDER).state is TenderState.AWARDED
    assert tender(db, TRAINING_TENDER).state is TenderState.FAILED
    assert load_demo(work=False) is False


def test_demo_adds_the_cooperation_to_a_database_that_has_only_the_tenders(demo, db):
    """A database loaded before the contracts existed gets the cooperation on the next run,
    once, without a second copy of the tenders."""
    assert cooperation(db) is not None
    tenders = row_counts(Tender, Bid, Challenge)
    _delete_contracts(db)
    assert row_counts(*CONTRACT_TABLES) == (0,) * len(CONTRACT_TABLES)
    assert load_demo(work=False) is True
    db.session.flush()
    assert row_counts(Tender, Bid, Challenge) == tenders
    assert cooperation(db).state is CooperationState.ACTIVE
    assert load_demo(work=False) is False


def _delete_contracts(db):
    for statement in (
            sa.delete(GridCase), sa.delete(TeamMember), sa.delete(ServiceTask),
            sa.delete(Movement), sa.delete(Instalment), sa.delete(Account),
            sa.delete(EvaluationPeriod), sa.delete(IndicatorSet),
            sa.delete(Signature), sa.delete(SpecialAgreement), sa.delete(Amendment),
            sa.delete(BudgetLine), sa.delete(SubContract), sa.delete(AgreementCommunity),
            sa.delete(AgreementParty), sa.delete(Agreement), sa.delete(Cooperation)):
        db.session.execute(statement)
    db.session.expire_all()


def _delete_tenders(db):
    _delete_contracts(db)
    tender_ids = sa.select(Tender.id)
    sheets = sa.select(ScoreSheet.id)
    db.session.execute(sa.update(Tender).values(awarded_bid_id=None))
    for statement in (
            sa.delete(ScoreCorrection), sa.delete(Score).where(Score.sheet_id.in_(sheets)),
            sa.delete(ScoreSheet), sa.delete(RoundEntry), sa.delete(EvaluationRound),
            sa.delete(Declaration), sa.delete(CommitteeMember), sa.delete(Challenge),
            sa.delete(BidFile), sa.delete(Bid), sa.delete(Invitation), sa.delete(Criterion),
            sa.delete(TenderDocument),
            sa.text("DELETE FROM tender_communities"), sa.text("DELETE FROM tender_pool_draws"),
            sa.delete(Tender).where(Tender.id.in_(tender_ids))):
        db.session.execute(statement)
    db.session.expire_all()


def tender(db, number) -> Tender | None:
    return db.session.scalar(sa.select(Tender).where(Tender.number == number))


def test_lingyuan_tender_is_an_invited_tender_of_six_agencies_for_the_two_communities(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    assert t.method is TenderMethod.INVITED
    assert t.street_office.name == "晋江市灵源街道办事处"
    assert {c.name for c in t.communities} == {"林口社区", "灵水社区"}
    assert t.budget_fen == 2 * 400_000 * 100
    assert len(t.invitations) == 6 and all(i.sent_at == t.published_at for i in t.invitations)
    assert {c.name: c.kind.value for c in t.criteria} == {
        "服务方案": "subjective", "团队配置": "objective", "项目经验": "objective",
        "投标报价": "price"}
    assert t.price_criterion.weight * 100 == 30
    assert t.published_at.year == 2016


def test_lingyuan_tender_documents_and_bid_files_are_stored_pdfs(demo, db, app):
    from pathlib import Path
    t = tender(db, LINGYUAN_TENDER)
    files = [d.file for d in t.documents] + [f.file for b in t.bids for f in b.current_files]
    assert len(t.documents) == 1 and len(files) == 7
    for stored in files:
        data = (Path(app.config["UPLOAD_DIR"]) / stored.stored_name).read_bytes()
        assert data.startswith(b"%PDF-") and len(data) == stored.size


def test_lingyuan_bids_are_within_budget_with_one_invalid_and_one_low_price_explained(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    bids = t.submitted_bids
    assert len(bids) == 6 and all(b.price_fen <= t.budget_fen for b in bids)
    invalid = [b for b in bids if not b.valid]
    assert len(invalid) == 1 and invalid[0].invalid_reason
    assert len(t.valid_bids) >= 3
    low = [b for b in bids if b.low_price]
    assert len(low) == 1 and low[0].low_price_decision is LowPriceDecision.ACCEPTED
    assert low[0].low_price_explanation and low[0].low_price_note


def test_lingyuan_committee_is_judge1_representing_the_office_and_four_experts_under_judge2(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    seats = evaluation.members(t)
    assert len(seats) == 5
    by_user = {m.judge.username: m for m in seats}
    assert set(by_user) == {"judge1", "judge2", "judge3", "judge4", "judge5"}
    assert not by_user["judge1"].is_expert and by_user["judge1"].role_label == "采购人代表"
    assert all(by_user[j].is_expert for j in ("judge2", "judge3", "judge4", "judge5"))
    assert [m.judge.username for m in seats if m.is_chair] == ["judge2"]


def test_lingyuan_tied_judge_scores_no_sheet_for_that_bidder(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    ties = db.session.scalars(sa.select(Declaration).join(CommitteeMember)
                              .where(CommitteeMember.tender_id == t.id, Declaration.has_tie)).all()
    assert len(ties) == 1
    tie = ties[0]
    sheets = db.session.scalars(sa.select(ScoreSheet).where(
        ScoreSheet.member_id == tie.member_id, ScoreSheet.bid_id == tie.bid_id)).all()
    assert sheets == []


def test_lingyuan_rounds_score_all_valid_bids_then_a_shortlist_of_three(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    rounds = evaluation.rounds(t)
    assert len(rounds) >= 2
    first, last = rounds[0], rounds[-1]
    assert {e.bid_id for e in first.entries} == {b.id for b in t.valid_bids}
    assert first.shortlist == 3 and len(rounds[1].entries) == 3
    assert last.shortlist is None and evaluation.final_round(t) is last
    for round_ in rounds:
        assert evaluation.missing_sheets(round_) == []
        assert all(s.state is SheetState.SUBMITTED for s in round_.sheets)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScoreCorrection)
                             .join(ScoreSheet).where(ScoreSheet.round_id == first.id)) == 1


def test_lingyuan_is_awarded_to_the_agency_the_formula_ranks_first(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    assert t.state is TenderState.AWARDED
    ranking = evaluation.final_ranking(t)
    assert ranking[0].bid.agency.name == "深圳慈善公益网"
    assert t.awarded_bid.agency.name == "深圳慈善公益网"
    # The ranking follows the scores: recompute each final score as the mean of the judges'
    # submitted totals, and each total from the scores and the price formula.
    base = min(b.price_fen for b in t.valid_bids)
    for entry in ranking:
        sheets = [s for s in evaluation.final_round(t).sheets if s.bid_id == entry.bid_id]
        price_score = rules.price_scores({0: base, 1: entry.bid.price_fen})[1]
        assert entry.price_score == price_score
        for sheet in sheets:
            expected = sum(rules.weighted(s.value, s.criterion.max_score, s.criterion.weight)
                           for s in sheet.scores) + rules.weighted(
                price_score, 100, t.price_criterion.weight)
            assert sheet.total == rules.round2(expected)
        assert entry.final_score == rules.combine([s.total for s in sheets], t.score_combination)
    assert [e.final_score for e in ranking] == sorted((e.final_score for e in ranking), reverse=True)


def test_lingyuan_dates_follow_the_working_day_rules(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    day = rules.local_date
    assert day(t.report_at) <= rules.working_deadline(day(t.opened_at), rules.REPORT_WORKING_DAYS)
    assert day(t.notice_published_at) <= rules.working_deadline(day(t.report_at),
                                                                rules.PICK_WORKING_DAYS)
    assert t.notice_end == rules.working_deadline(day(t.notice_published_at), 1)
    assert t.challenge_until == rules.working_deadline(t.notice_end, 7)
    for moment in (t.published_at, t.bid_deadline, t.opened_at, t.report_at,
                   t.notice_published_at):
        assert is_working_day(day(moment)), moment


def test_lingyuan_challenge_was_answered_without_changing_the_result(demo, db):
    t = tender(db, LINGYUAN_TENDER)
    [challenge] = t.challenges
    assert challenge.state is ChallengeState.ANSWERED and challenge.may_change_result is False
    assert challenge.agency_id != t.awarded_bid.agency_id
    assert rules.local_date(challenge.submitted_at) <= t.challenge_until
    assert rules.local_date(challenge.answered_at) <= award.answer_due(challenge)
    assert award.signing_block(t) is None


def test_demo_has_a_failed_open_tender_with_its_reason(demo, db):
    t = tender(db, TRAINING_TENDER)
    assert t.method is TenderMethod.OPEN and t.state is TenderState.FAILED
    assert "不足 3 家" in t.end_reason
    assert len(t.submitted_bids) == 2 and t.opened_at is None
    assert t.ended_at.year == 2016 and t.ended_at >= t.bid_deadline


def test_demo_evaluation_report_shows_both_rounds_and_the_winner(demo, db):
    from pypdf import PdfReader

    from procurement.documents.pdf import render_pdf
    from procurement.tenders.report import report_context

    data = render_pdf("pdf/evaluation_report.html", **report_context(tender(db, LINGYUAN_TENDER)))
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))
    assert "第1轮评分" in text and "第2轮评分" in text
    assert "中标人深圳慈善公益网（评审排名第1名）" in text
    for name in ("苏国栋", "杨慧敏", "方志诚", "谢婉清", "曾庆余"):
        assert name in text


# --- the Lingyuan cooperation -------------------------------------------------------------


def cooperation(db) -> Cooperation | None:
    return db.session.scalar(sa.select(Cooperation).join(Tender, Cooperation.tender_id == Tender.id)
                             .where(Tender.number == LINGYUAN_TENDER))


def budget(agreement) -> dict[str, dict[BudgetCategory, int]]:
    result = {}
    for line in agreement.budget_lines:
        result.setdefault(line.community.name, {})[line.category] = line.amount_fen
    return result


def test_lingyuan_cooperation_is_active_for_three_years_with_winner_and_university(demo, db):
    coop = cooperation(db)
    t = tender(db, LINGYUAN_TENDER)
    assert coop.state is CooperationState.ACTIVE
    assert coop.agency_id == t.awarded_bid.agency_id and coop.agency.name == "深圳慈善公益网"
    assert coop.university.name == "厦门大学公共事务学院"
    assert coop.street_office_id == t.street_office_id
    assert (coop.start_date.isoformat(), coop.end_date.isoformat()) == ("2016-05-01", "2019-04-30")
    assert coop.justification  # a term over one year needs one
    assert [a.year_no for a in coop.agreements] == [1]


def test_lingyuan_first_agreement_is_signed_by_all_five_parties_before_the_deadline(demo, db):
    coop = cooperation(db)
    t = tender(db, LINGYUAN_TENDER)
    [agreement] = coop.agreements
    assert agreement.state is DocumentState.IN_FORCE
    assert (agreement.start_date.isoformat(), agreement.end_date.isoformat()) == (
        "2016-05-01", "2017-04-30")
    roles = [(p.org.name, p.role) for p in agreement.parties]
    assert roles == [("晋江市灵源街道办事处", PartyRole.PURCHASER),
                     ("林口社区居民委员会", PartyRole.SUPERVISOR),
                     ("灵水社区居民委员会", PartyRole.SUPERVISOR),
                     ("厦门大学公共事务学院", PartyRole.RESEARCH),
                     ("深圳慈善公益网", PartyRole.CONTRACTOR)]
    due = sign_due(rules.local_date(t.notice_published_at))
    assert agreement.sign_due == due and due.isoformat() == "2016-04-30"
    signed = signing.signatures(agreement)
    assert len(signed) == 5 and signing.missing_parties(agreement) == []
    assert {s.org_id for s in signed} == {p.org_id for p in agreement.parties}
    assert {s.signer.username for s in signed} == {"lingdao", "linkou", "lingshui", "xiada",
                                                   "cishan"}
    for s in signed:
        assert s.signer.org_id == s.org_id  # nobody signed for another organisation
        assert s.version == agreement.version
        assert t.challenge_until < rules.local_date(s.signed_at) <= due


def test_lingyuan_agreement_has_six_sub_contracts_and_400000_yuan_per_community(demo, db):
    [agreement] = cooperation(db).agreements
    assert len(agreement.sub_contracts) == 6
    assert {s.kind.value for s in agreement.sub_contracts} == {"grid", "centre"}
    assert all(s.title and s.content for s in agreement.sub_contracts)
    assert {c.community.name: c.amount_fen for c in agreement.communities} == {
        "林口社区": 40_000_000, "灵水社区": 40_000_000}
    lines = budget(agreement)
    assert set(lines) == {"林口社区", "灵水社区"}
    for name, by_category in lines.items():
        assert set(by_category) == set(BudgetCategory)
        assert sum(by_category.values()) == 40_000_000, name


def test_lingyuan_amendment_moved_training_money_and_is_in_force(demo, db):
    [agreement] = cooperation(db).agreements
    [amendment] = agreement.amendments
    assert amendment.number == 1 and amendment.state is DocumentState.IN_FORCE
    assert amendment.reason and len(signing.signatures(amendment)) == 5
    assert {c["label"]: (c["before"], c["after"]) for c in amendment.changes} == {
        "林口社区活动费": (3_200_000, 2_600_000), "林口社区培训费": (1_600_000, 2_200_000)}
    lines = budget(agreement)
    assert lines["林口社区"][BudgetCategory.ACTIVITIES] == 2_600_000
    assert lines["林口社区"][BudgetCategory.TRAINING] == 2_200_000
    assert lines["灵水社区"][BudgetCategory.ACTIVITIES] == 3_200_000
    assert sum(lines["林口社区"].values()) == 40_000_000
    assert amendment.in_force_at.year == 2016
    assert agreement.content_hash == signing.compute_hash(agreement)


def test_lingyuan_has_a_special_agreement_after_the_typhoon_signed_by_all(demo, db):
    coop = cooperation(db)
    [special] = coop.specials
    assert "莫兰蒂" in special.title and special.state is DocumentState.IN_FORCE
    assert special.amount_fen == 3_000_000 and sum(special.budget.values()) == 3_000_000
    assert len(signing.signatures(special)) == 5 and signing.missing_parties(special) == []
    assert special.start_date.year == 2016 and special.in_force_at.year == 2016


def test_demo_is_audited_and_the_chain_verifies(demo):
    report = verify_chain()
    assert report.ok and report.checked > len(DEMO_USERS)


@pytest.mark.parametrize("username, role", [(u[0], u[3][0]) for u in DEMO_USERS])
def test_each_demo_user_logs_in_to_a_home_page_for_their_role(app, demo, username, role):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "待办事项" in html
    assert role.label in html


def test_demo_cli_command_loads_and_then_skips(app):
    runner = app.test_cli_runner()
    assert "已载入" in runner.invoke(args=["demo"]).output
    assert "跳过" in runner.invoke(args=["demo"]).output


def test_demo_has_the_team_and_grid_cases_through_every_path(demo, db):
    from procurement.tasks import team
    from procurement.tasks.states import CaseState
    agreement = db.session.scalar(sa.select(Agreement).where(Agreement.number == "HT2016-001-1"))
    assert team.gaps(agreement, date(2016, 6, 1)) == []
    assert TeamMember.query.filter(TeamMember.end_date.is_not(None)).count() == 1
    states = [c.state for c in GridCase.query.order_by(GridCase.reported_at)]
    # 50+ cases in the first months (DOMAIN.md 4), a few escalated, one cancelled.
    assert len(states) >= 50 and states.count(CaseState.CANCELLED) == 1
    assert states.count(CaseState.RATED) == len(states) - 1
    escalated = GridCase.query.filter(GridCase.department.is_not(None)).all()
    assert 3 <= len(escalated) <= 10
    assert all(c.closed_by_id != c.handler_id for c in GridCase.query if c.closed_by_id)
