"""Hostile input on every HTML form (issue 9): full-width digits, 万, huge numbers, empty and
whitespace, long Unicode, NUL, HTML/script, SQL-ish strings, impossible dates, choices not
offered, repeated and unknown fields, odd files.

The forms are not listed by hand. Each *world* below builds a state in which a set of forms
is shown, signs in its users and walks the pages they see; every POST form found there is
fuzzed with Hypothesis. Every POST endpoint of the pages (from the URL map) must be reached in
some world or be exempt with a reason, so a new form is covered as soon as a page shows it.

After every post (inside a savepoint rolled back before the next one): no 5xx; the database
changed if and only if an audit entry was written; a posted script never comes back
unescaped, neither in the answer nor in the page it redirects to.
"""
import os
from dataclasses import dataclass
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from werkzeug.datastructures import MultiDict

from hostile_support import SCRIPT, Crawler, baseline, check_post, hostile_data
from procurement.accounts.roles import Role
from procurement.core.calendar import local_today

EXAMPLES = 8

# POST endpoints of the pages that no world exercises, with the reason.
EXEMPT = {
}

# Endpoints that may change the database without an audit entry, with the reason.
NO_AUDIT = {
}

# Endpoints that audit an attempt that changes nothing else, with the reason.
AUDITED_ATTEMPTS = {
    "accounts.login": "a failed sign-in is recorded in the audit trail (who tried, not a change)",
}


@dataclass
class World:
    name: str
    build: Callable          # (request) -> [(user or None, start urls)]
    endpoints: frozenset     # the forms this world must show


def accounts_world(request):
    factory = request.getfixturevalue("factory")
    from procurement.api.tokens import create_token

    office = factory.org("street_office")
    admin = factory.user(Role.ADMIN, org=office)
    factory.community(street_office=office)
    factory.org("agency")
    someone = factory.user(Role.TENDER_OFFICER, org=office)
    create_token(someone, someone, "脚本")
    from procurement.accounts.services import set_user_active
    from procurement.orgs.services import set_organisation_active

    set_user_active(None, factory.user(Role.AGENCY_STAFF), False)
    set_organisation_active(None, factory.org("university"), False)
    return [(None, ["/login"]), (admin, ["/", "/admin/users/", "/admin/orgs/"]),
            (someone, ["/account"])]


def live_tenders_world(request):
    """Tenders open for bids by the real clock: a draft by invitation and one taking bids."""
    builder = request.getfixturevalue("builder").started(0)
    builder.draft(invite=3)
    taking = builder.published()
    builder.bid(taking, 0, 60_000_000, days=0)
    return [(builder.officer, ["/tenders/"]), (builder.agency_users[0], ["/bidding/"]),
            (builder.agency_users[1], ["/bidding/"])]


def past_tenders_world(request):
    """Tenders published 30 days ago, one at each later stage: deadline passed, opened with
    its committee, evaluating with an abnormally low price, scored, ranked, reported, and
    awarded with a challenge."""
    from procurement.core import clock
    from procurement.tenders import award, bidding, evaluation

    b = request.getfixturevalue("builder").started(30)
    b.with_bids()                                          # to open, or to fail
    opened = b.opened()
    b.committee(opened)                                    # qualify, committee, replace
    low = (40_000_000, 64_000_000, 70_000_000, 75_000_000)
    b.evaluating(prices=low)                               # declare, sheet, explain
    explained = b.evaluating(prices=low)                   # decide low price, correct
    cheap = next(x for x in explained.bids if x.price_fen == low[0])
    with clock.frozen(b.after_deadline(explained, hours=2)):
        bidding.explain_low_price(b.agency_users[0], cheap, "本机构有志愿者团队，人工成本较低。")
    b.declare_all(explained)
    member = evaluation.member_of(explained, b.experts[1])
    round_ = evaluation.current_round(explained)
    with clock.frozen(b.after_deadline(explained, hours=3)):
        given = {c.id: c.max_score / 2 for c in explained.criteria if c.kind.value != "price"}
        evaluation.save_sheet(b.experts[1], member, round_, cheap, given, submit=True)
    scored = b.evaluating()
    b.score_round(scored, evaluation.current_round(scored))   # close the round
    b.ranked()                                             # the report
    b.reported()                                           # the award
    awarded = b.awarded()                                  # challenge, answer
    with clock.frozen(b.after_deadline(awarded, hours=48)):
        bid = next(x for x in awarded.bids if x.agency_id == b.agencies[2].id)
        award.file_challenge(b.agency_users[2], awarded, bid, "评分不公，请复核。")
    judges = [b.rep, *b.experts[:3]]
    return [(b.officer, ["/tenders/"]), *[(j, ["/judging/"]) for j in judges],
            *[(a, ["/bidding/"]) for a in b.agency_users[:3]]]


def contracts_world(request):
    """Two months after the tenders: an award without a contract yet, and two cooperations
    waiting for signatures (one with its service list drawn up, one without)."""
    from procurement.tasks import task_list

    contracts = request.getfixturevalue("contracts")
    contracts.tenders.started(60)
    contracts.awarded()
    with_list = contracts.cooperation().agreements[0]
    task_list.draw_up(contracts.manager, with_list)
    contracts.cooperation()
    coop = with_list.cooperation
    return [(contracts.manager, ["/contracts/", "/work/", "/tenders/"]),
            *[(u, ["/contracts/"]) for u in contracts.signers(coop)]]


def grid_work_world(request):
    """A community served today: its registers, records, team, a case at every step, an
    amendment and a special agreement waiting for signatures."""
    from datetime import timedelta

    from procurement.contracts import changes
    from procurement.contracts.states import BudgetCategory
    from procurement.core.calendar import local_today
    from procurement.extensions import db
    from procurement.tasks import cases, records, task_list, team
    from procurement.tasks.models import Household, Premises
    from procurement.tasks.states import CaseCategory, PremisesKind, RecordKind, TeamRole, Urgency

    s = request.getfixturevalue("serving")
    contracts = request.getfixturevalue("contracts")
    agreement, community, grid = s["agreement"], s["community"], s["grid"]
    worker, committee, manager = s["worker"], s["committee"], s["manager"]
    homes = [Household(community_id=community.id, grid_id=grid.id, building="1栋",
                       address=f"1栋10{n}", head_name=f"王{n}") for n in range(2)]
    shops = [Premises(community_id=community.id, grid_id=grid.id, kind=PremisesKind.SHOP,
                      name=f"超市{n}", address=f"幸福路{n}号") for n in range(2)]
    db.session.add_all(homes + shops)
    homes[1].active = shops[1].active = False
    db.session.flush()
    records.add(worker, community=community, kind=RecordKind.VISIT, day=local_today(),
                household=homes[0])
    team.add_member(worker, agreement, community_id=community.id, role=TeamRole.PROJECT_LEAD,
                    name="陈社工", start_date=agreement.start_date)

    def case(*steps):
        c = cases.report(committee, grid=grid, category=CaseCategory.SAFETY,
                         urgency=Urgency.NORMAL, title="楼道堆放杂物",
                         description="3号楼楼道堆放纸箱。", location="3号楼")
        for step in steps:
            step(c)
        return c

    verify = lambda c: cases.verify(worker, c)  # noqa: E731
    case()                                                          # verify, cancel
    case(verify)                                                    # handle, escalate
    case(verify, lambda c: cases.escalate(worker, c, "城建办"))     # department result
    handled = lambda c: cases.handle_on_spot(s["colleague"], c, "已清理")  # noqa: E731
    case(verify, handled)                                           # feed back
    fed = lambda c: cases.feed_back(s["colleague"], c, "已告知")  # noqa: E731
    case(verify, handled, fed)                                      # close
    case(verify, handled, fed, lambda c: cases.close(worker, c))    # rate
    budget = contracts.budget_of(agreement)
    first = agreement.communities[0].community_id
    budget[first][BudgetCategory.TRAINING] += 100
    budget[first][BudgetCategory.WAGES] -= 100
    changes.propose_amendment(manager, agreement, reason="调整预算科目", end_date=agreement.end_date,
                              amounts=contracts.amounts_of(agreement), budget=budget)
    changes.create_special(manager, agreement, title="应急防疫", content="协助开展应急防疫工作。",
                           budget={BudgetCategory.WAGES: 1_000_000},
                           start_date=agreement.start_date,
                           end_date=agreement.start_date + timedelta(days=30))
    del task_list
    cid = community.id
    return [(worker, [f"/registers/{cid}/households?status=inactive",
                      f"/registers/{cid}/premises?status=inactive",
                      f"/records/new?community={cid}&kind=visit",
                      f"/records/batch?grid={grid.id}&kind=visit", "/cases/", "/records/", "/registers/", "/team/"]),
            (s["colleague"], ["/cases/"]), (committee, ["/cases/", "/contracts/"]),
            (manager, ["/cases/", "/contracts/", "/registers/"])]


def _accept_quarter(a, share, **kwargs):
    from disbursements.test_disbursements import accept_quarter

    accept_quarter(a, share, **kwargs)


def evaluations_world(request):
    """An agreement past its first quarter: every source has rated it, the agency's
    self-assessment waits for acceptance, and a residents' survey is open."""
    from datetime import timedelta

    import sqlalchemy as sa

    from procurement.core import clock
    from procurement.evaluations import surveys
    from procurement.evaluations.models import SurveyToken
    from procurement.extensions import db

    a = request.getfixturevalue("appraised")
    _accept_quarter(a, "0.9", survey=False, accept_self=False, finalise=False)
    survey = surveys.create(a["manager"], a["quarter"], a["community"], size=3,
                            closes_at=clock.now() + timedelta(days=7))
    token = db.session.scalar(sa.select(SurveyToken.token).where(SurveyToken.survey_id == survey.id)
                              .order_by(SurveyToken.id))
    return [(None, [f"/s/{token}"]), (a["manager"], ["/evaluations/", "/surveys/", "/disbursements/"]),
            (a["agency"], ["/evaluations/", "/disbursements/"]), (a["committee"], ["/evaluations/"])]


def payments_world(steps):
    """The first quarter accepted (graded 基本合格, so 10% is withheld), then the payment
    taken `steps` steps along: requested, approved, paid."""
    def build(request):
        from procurement.accounts.roles import Role
        from procurement.disbursements import services
        from procurement.disbursements.models import Account
        import sqlalchemy as sa
        from procurement.extensions import db

        a = request.getfixturevalue("appraised")
        office = a["agreement"].cooperation.street_office
        finance = request.getfixturevalue("factory").user(Role.FINANCE_OFFICER, org=office)
        _accept_quarter(a, "0.75")
        account = db.session.scalar(sa.select(Account).where(
            Account.agreement_id == a["agreement"].id, Account.community_id == a["community"].id))
        instalment = next(i for i in account.instalments if i.number == 1)
        actions = [lambda: services.request(a["manager"], instalment),
                   lambda: services.approve(a["leader"], instalment),
                   lambda: services.pay(finance, instalment, paid_on=local_today(),
                                        voucher_no="LY2026-001")]
        for action in actions[:steps]:
            action()
        actor = (a["manager"], a["leader"], finance, finance)[steps]
        return [(actor, ["/disbursements/"])]
    return build


WORLDS = [
    World("accounts", accounts_world, frozenset({
        "accounts.login", "accounts.logout", "accounts.change_password",
        "accounts.create_token", "accounts.revoke_token", "orgs.activate", "orgs.deactivate",
        "orgs.edit", "orgs.edit_community", "orgs.add_grid", "orgs.create_community",
        "orgs.create", "users.activate", "users.deactivate", "users.edit",
        "users.reset_password", "users.create"})),
    World("live tenders", live_tenders_world, frozenset({
        "tenders.create", "tenders.edit", "tenders.publish", "tenders.invite",
        "tenders.uninvite", "tenders.draw", "tenders.upload_document", "tenders.clarify",
        "tenders.cancel", "bidding.submit", "bidding.withdraw"})),
    World("past tenders", past_tenders_world, frozenset({
        "tenders.open_bids", "tenders.fail", "tenders.qualify", "tenders.form_committee",
        "tenders.replace_member", "tenders.start_evaluation", "tenders.award",
        "tenders.answer_challenge", "bidding.explain", "bidding.challenge", "judging.declare",
        "judging.sheet", "judging.correct", "judging.decide_low_price", "judging.close_round",
        "judging.submit_report"})),
    World("contracts", contracts_world, frozenset({
        "contracts.create", "contracts.sign", "contracts.edit_terms", "contracts.edit_duties",
        "contracts.edit_evaluation", "contracts.edit_sub_contracts", "work.draw_up",
        "work.edit_task"})),
    World("grid work", grid_work_world, frozenset({
        "cases.new", "cases.verify", "cases.cancel", "cases.handle", "cases.escalate",
        "cases.department_result", "cases.feed_back", "cases.close", "cases.rate",
        "records.new", "records.batch", "records.correct", "records.withdraw",
        "registers.import_file", "registers.activate_household",
        "registers.deactivate_household", "registers.activate_premises",
        "registers.deactivate_premises", "team.add", "team.end", "contracts.new_amendment",
        "contracts.new_special", "contracts.renew", "contracts.terminate",
        "contracts.sign_amendment", "contracts.cancel_amendment", "contracts.sign_special",
        "contracts.cancel_special", "sheets.edit_indicators"})),
    World("evaluations", evaluations_world, frozenset({
        "sheets.fill", "sheets.accept", "sheets.return_for_revision",
        "sheets.add_review", "evaluations.finalise", "surveys.new", "surveys.close",
        "survey_public.answer", "disbursements.set_rule", "disbursements.report_spending"})),
    World("payment due", payments_world(0), frozenset({"disbursements.request_payment"})),
    World("payment requested", payments_world(1), frozenset({"disbursements.approve"})),
    World("payment approved", payments_world(2), frozenset({"disbursements.pay"})),
    World("payment made", payments_world(3), frozenset({"disbursements.release",
                                                        "disbursements.reverse"})),
]


def page_post_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith("/api/")}


def test_every_page_form_is_fuzzed_in_some_world_or_exempt(app):
    covered = set().union(*(w.endpoints for w in WORLDS))
    assert not covered & EXEMPT.keys(), "an endpoint is both covered and exempt"
    unlisted = page_post_endpoints(app) - covered - EXEMPT.keys()
    assert not unlisted, f"POST endpoints in no world and not exempt: {sorted(unlisted)}"
    assert not (covered | EXEMPT.keys()) - page_post_endpoints(app), "stale entries"


def fuzz(client, form, examples=EXAMPLES) -> list[str]:
    """Hostile posts into one form; returns a line per broken invariant."""
    failures = []
    # Once deterministically: a script in every field that takes text.
    scripted = baseline(form)
    for f in form.fields:
        if f.kind in ("text", "textarea", "search", "email", "tel", "url"):
            scripted.setlist(f.name, [SCRIPT])
    for problem in check_post(client, form, scripted, {}, NO_AUDIT.keys(), AUDITED_ATTEMPTS.keys()):
        failures.append(f"{form.endpoint} (script in every text field): {problem}")

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(hostile_data(form, local_today().isoformat()))
    def run(example):
        data, files = example
        problems = check_post(client, form, data, files, NO_AUDIT.keys(),
                              AUDITED_ATTEMPTS.keys())
        assert not problems, f"{problems} posting {_short(data)} files={_files(files)}"

    try:
        run()
    except Exception as exc:  # noqa: BLE001 - reported with the endpoint
        failures.append(f"{form.endpoint} {form.url}: {exc}")
    return failures


def _short(data: MultiDict) -> dict:
    return {k: [v if len(v) < 80 else f"{v[:40]!r}…({len(v)} chars)" for v in vs]
            for k, vs in data.lists()}


def _files(files) -> dict:
    return {k: [name for _, name in v] for k, v in files.items()}


@pytest.mark.parametrize("world", WORLDS, ids=lambda w: w.name)
def test_every_form_survives_hostile_input(world, request, app, sign_in, db):
    actors = world.build(request)
    db.session.commit()
    crawler = Crawler(app)
    found = {}
    for user, start in actors:
        client = sign_in(user) if user is not None else app.test_client()
        for endpoint, form in crawler.crawl(client, start).items():
            found.setdefault(endpoint, (client, form))
    if os.environ.get("HOSTILE_STATS"):
        print("FOUND", world.name, sorted(found))
    missing = world.endpoints - found.keys()
    assert not missing, f"forms not shown in world {world.name}: {sorted(missing)}"
    # A form is fuzzed in the world that declares it; one that no world declares (a new
    # form) wherever it is found.
    declared = set().union(*(w.endpoints for w in WORLDS))
    failures = []
    for endpoint in sorted(found):
        if endpoint in world.endpoints or endpoint not in declared:
            client, form = found[endpoint]
            failures += fuzz(client, form)
    if os.environ.get("HOSTILE_STATS"):
        from hostile_support import OUTCOMES
        for endpoint in sorted(found):
            print("STAT", endpoint, OUTCOMES.get(endpoint))
    assert not failures, "\n\n".join(failures)


def test_saving_an_agreement_unchanged_keeps_its_signatures_and_records_nothing(contracts, db):
    """Found by the fuzzing: a save that changed nothing wrote an audit entry and, after a
    signature, made a new version that voided the signatures."""
    import sqlalchemy as sa

    from procurement.audit.models import AuditEntry
    from procurement.contracts import services, signing
    from procurement.core import clock

    contracts.tenders.started(60)
    agreement = contracts.cooperation().agreements[0]
    with clock.frozen(contracts.when(agreement.cooperation.tender, 3)):
        services.sign_agreement(contracts.leader, agreement, agreement.content_hash)
    audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    version = agreement.version
    services.update_duties(contracts.manager, agreement,
                           {p.org_id: p.duties for p in agreement.parties})
    assert agreement.version == version and len(signing.signatures(agreement)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audited
    # A real change still makes a new version and is recorded.
    first = agreement.parties[0]
    services.update_duties(contracts.manager, agreement,
                           {p.org_id: p.duties + ("（补充）" if p is first else "")
                            for p in agreement.parties})
    assert agreement.version == version + 1 and not signing.signatures(agreement)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == audited + 1
