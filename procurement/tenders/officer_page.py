"""The tender page of the street office: what it shows to whom, the action forms with their
choices, and the "next step" panel. Nothing here decides a rule; every bid detail passes
through `permissions.can_read_bid` and every committee detail through `can_see_committee`."""
from datetime import date, datetime

import sqlalchemy as sa
from flask import render_template, request
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.models import User, UserRole
from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.core.calendar import add_days, add_working_days, is_estimated, to_local
from procurement.core.money import format_fen
from procurement.extensions import db
from procurement.orgs.models import OrgKind, Organisation
from procurement.tenders import award as award_service
from procurement.tenders import evaluation, rules, services
from procurement.tenders.forms import (AnswerForm, AwardForm, ClarifyForm, CommitteeForm,
                                       DocumentForm, DrawForm, InviteForm, QualifyForm,
                                       ReasonForm, ReplaceMemberForm)
from procurement.tenders.models import PoolDraw, Tender
from procurement.tenders.permissions import (can_manage, can_read_bid, can_see_all_scores,
                                              can_see_committee, is_opened)
from procurement.tenders.states import (ACCEPTING_BIDS, TENDER, ChallengeState, CriterionKind,
                                        DocumentKind, RoundState, SheetState, TenderMethod,
                                        TenderState)

S = TenderState


# --- choices ---------------------------------------------------------------------------


def agency_choices(exclude=()) -> list[tuple[int, str]]:
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name, Organisation.region)
        .where(Organisation.kind == OrgKind.AGENCY, Organisation.active.is_(True),
               Organisation.id.not_in(list(exclude) or [0]))
        .order_by(Organisation.name)).all()
    return [(r.id, f"{r.name}（{r.region}）" if r.region else r.name) for r in rows]


def witness_choices(tender: Tender) -> list[tuple[int, str]]:
    users = db.session.scalars(
        sa.select(User).where(User.org_id == tender.street_office_id, User.active.is_(True),
                              User.id != current_user.id).order_by(User.name))
    return [(u.id, f"{u.name}（{u.title}）" if u.title else u.name) for u in users]


def judge_users(tender: Tender) -> list[User]:
    """Active judges: experts from outside the street offices, and this office's own staff
    as the purchaser's representatives."""
    return list(db.session.scalars(
        sa.select(User).join(User.org)
        .where(User.active.is_(True),
               User.id.in_(sa.select(UserRole.user_id).where(UserRole.role == Role.JUDGE)),
               sa.or_(Organisation.kind != OrgKind.STREET_OFFICE,
                      User.org_id == tender.street_office_id))
        .order_by(Organisation.name, User.name)))


def judge_label(user: User) -> str:
    role = "评审专家" if evaluation.is_expert(user) else "采购人代表"
    return f"{user.name}（{user.org.name}）· {role}"


def judge_choices(tender: Tender, exclude=()) -> list[tuple[int, str]]:
    return [(u.id, judge_label(u)) for u in judge_users(tender) if u.id not in set(exclude)]


# --- forms -----------------------------------------------------------------------------


def invite_form(tender, formdata=None):
    form = InviteForm(formdata=formdata, prefix="invite")
    form.agencies.choices = agency_choices(exclude=[i.agency_id for i in tender.invitations])
    return form


def draw_form(tender, formdata=None):
    form = DrawForm(formdata=formdata, prefix="draw")
    form.pool.choices = agency_choices(exclude=[i.agency_id for i in tender.invitations])
    form.witnesses.choices = witness_choices(tender)
    return form


def committee_form(tender, formdata=None):
    form = CommitteeForm(formdata=formdata, prefix="committee")
    choices = judge_choices(tender)
    form.judges.choices = choices
    form.chair.choices = [(0, "—— 请选择 ——"), *choices]
    if formdata is None:
        seats = evaluation.members(tender)
        form.judges.data = [m.judge_id for m in seats]
        form.chair.data = next((m.judge_id for m in seats if m.is_chair), 0)
    return form


def replace_form(tender, formdata=None):
    form = ReplaceMemberForm(formdata=formdata, prefix="replace")
    seats = evaluation.members(tender)
    form.member.choices = [(m.id, f"{m.judge.name}（{m.role_label}{'·组长' if m.is_chair else ''}）")
                           for m in seats]
    everyone = [m.judge_id for m in evaluation.members(tender, active_only=False)]
    form.judge.choices = [(0, "—— 请选择 ——"), *judge_choices(tender, exclude=everyone)]
    return form


def award_form(tender, formdata=None):
    form = AwardForm(formdata=formdata, prefix="award")
    form.bid.choices = [
        (e.bid_id, f"第 {e.rank} 名　{e.bid.agency.name}　综合得分 {e.final_score}"
                   + (f"　报价 {format_fen(e.bid.price_fen)}" if can_read_bid(current_user, e.bid) else ""))
        for e in evaluation.final_ranking(tender)]
    return form


def qualify_form(bid, formdata=None):
    form = QualifyForm(formdata=formdata, prefix=f"bid-{bid.id}")
    if formdata is None:
        form.valid.data = "0" if bid.valid is False else "1"
        form.reason.data = bid.invalid_reason or ""
    return form


def answer_form(challenge, formdata=None):
    return AnswerForm(formdata=formdata, prefix=f"challenge-{challenge.id}")


FORM_BUILDERS = {
    "document": lambda t, fd=None: DocumentForm(formdata=fd, prefix="document"),
    "invite": invite_form,
    "draw": draw_form,
    "clarify": lambda t, fd=None: ClarifyForm(formdata=fd, prefix="clarify"),
    "committee": committee_form,
    "replace": replace_form,
    "award": award_form,
    "fail": lambda t, fd=None: ReasonForm(formdata=fd, prefix="fail"),
    "cancel": lambda t, fd=None: ReasonForm(formdata=fd, prefix="cancel"),
}


def posted():
    """The request's fields and files, for binding a form explicitly."""
    return CombinedMultiDict([request.files, request.form])


def build_form(name: str, tender: Tender):
    """The named action form bound to the posted data (for validating a POST)."""
    return FORM_BUILDERS[name](tender, posted())


# --- what the page shows -----------------------------------------------------------------


def _local_day(value) -> date | None:
    if isinstance(value, datetime):
        return to_local(value).date()
    return value


def estimated_years(tender: Tender, schedule: dict) -> list[int]:
    """Years whose official holiday arrangement is not known: working days are a guess."""
    days = {_local_day(v) for v in schedule.values() if v is not None}
    if tender.state is S.DRAFT:  # the earliest legal dates if published today
        today = clock.today()
        days |= {today, add_working_days(today, rules.NOTICE_WORKING_DAYS),
                 add_days(today, rules.BID_PERIOD_DAYS)}
    return sorted({d.year for d in days if d is not None and is_estimated(d)})


def draws(tender: Tender) -> list[dict]:
    records = list(db.session.scalars(sa.select(PoolDraw).where(PoolDraw.tender_id == tender.id)
                                      .order_by(PoolDraw.id)))
    ids = {i for r in records for i in r.pool}
    names = dict(db.session.execute(sa.select(Organisation.id, Organisation.name)
                                    .where(Organisation.id.in_(ids or {0}))).all())
    drawers = {r.drawn_by_id for r in records if r.drawn_by_id}
    people = dict(db.session.execute(sa.select(User.id, User.name)
                                     .where(User.id.in_(drawers or {0}))).all())
    return [{"record": r, "pool": [names.get(i, str(i)) for i in r.pool],
             "drawn": [names.get(i, str(i)) for i in r.drawn],
             "witnesses": [w.get("name", "") for w in r.witnesses],
             "drawn_by": people.get(r.drawn_by_id, "")} for r in records]


def round_views(tender: Tender, user) -> list[dict]:
    """Each round's entries and, once closed, every judge's sheets (overseers only)."""
    if not can_see_all_scores(user, tender):
        return []
    result = []
    seats = evaluation.members(tender, active_only=False)
    price_free = [c for c in tender.criteria if c.kind is not CriterionKind.PRICE]
    for round_ in evaluation.rounds(tender):
        entries = [e for e in round_.entries if can_read_bid(user, e.bid)]
        entries.sort(key=lambda e: (e.rank is None, e.rank or 0, e.bid.opening_order or 0))
        view = {"round": round_, "entries": entries, "closed": round_.state is RoundState.CLOSED,
                "missing": [] if round_.state is RoundState.CLOSED
                else evaluation.missing_sheets(round_)}
        if view["closed"]:
            sheets = {(s.member_id, s.bid_id): s for s in round_.sheets}
            judges = [m for m in seats if any(k[0] == m.id for k in sheets)]
            view.update(judges=judges, sheets=sheets, criteria=price_free)
        result.append(view)
    return result


def next_steps(tender: Tender, ctx: dict) -> list[str]:
    """What the officer should do now, in plain words."""
    now = clock.now()
    state = tender.state
    steps = []
    if state is S.DRAFT:
        today = clock.today()
        steps.append(f"核对项目信息与评分标准，上传招标文件（可多份）。如今天发布，"
                     f"文件提供截止日不得早于 {add_working_days(today, rules.NOTICE_WORKING_DAYS):%Y-%m-%d}，"
                     f"投标截止不得早于 {add_days(today, rules.BID_PERIOD_DAYS):%Y-%m-%d}；"
                     "不符合的请先“编辑”调整日期。")
        if tender.method is TenderMethod.INVITED:
            have = len(tender.invitations)
            if have < rules.MIN_INVITED:
                steps.append(f"邀请招标须邀请不少于 {rules.MIN_INVITED} 家机构，现有 {have} 家："
                             "可直接邀请，或从备选库随机抽取（须两名以上见证人）。")
        if not ctx["documents"]:
            steps.append("尚未上传招标文件。")
        steps.append("准备就绪后点击“发布”：招标公告与邀请书同时发出。可提前组建评标委员会。")
    elif state in ACCEPTING_BIDS and now < tender.bid_deadline:
        steps.append(f"投标进行中，截止并开标时间为 {to_local(tender.bid_deadline):%Y-%m-%d %H:%M}。"
                     f"已收到 {ctx['bid_count']} 份投标（开标前不显示投标人及内容）。")
        steps.append("如需澄清或修改招标文件，请发布澄清；可能影响投标的澄清距截止不足 15 日的，"
                     "截止时间自动顺延。请在开标前组建评标委员会。")
    elif state in ACCEPTING_BIDS or state is S.BIDDING_CLOSED:
        if ctx["bid_count"] < rules.MIN_BIDS:
            steps.append(f"投标已截止，只收到 {ctx['bid_count']} 份投标，不足 {rules.MIN_BIDS} 家，"
                         "不得开标，请填写原因废标，然后重新招标或经批准改变采购方式。")
        else:
            steps.append("开标时间已到：请点击“开标”，当众公开各投标报价并记录。")
    elif state is S.OPENED:
        pending = [b for b in tender.submitted_bids if b.valid is None]
        if pending:
            steps.append(f"请逐一完成资格审查：还有 {len(pending)} 份投标未审查。"
                         "超过预算或最高限价的投标已自动认定无效。")
        if not evaluation.members(tender):
            steps.append("请组建评标委员会（单数，专家不少于三分之二，采购人代表不得任组长）。")
        if not pending:
            if len(tender.valid_bids) < rules.MIN_BIDS:
                steps.append(f"合格投标不足 {rules.MIN_BIDS} 家，不得评标，请废标。")
            else:
                steps.append("资格审查已完成：请点击“开始评标”，评委随即可以声明回避并评分。")
    elif state is S.EVALUATING:
        current = evaluation.current_round(tender)
        if current is not None and current.state is RoundState.SCORING:
            missing = len(evaluation.missing_sheets(current))
            steps.append(f"评标委员会正在进行{current.label}评分，尚有 {missing} 份评分表未提交。"
                         "如有评委不能继续，可更换评委（其评分作废）。")
        else:
            steps.append("评分已结束，等待评标委员会组长提交评标报告。")
        due = ctx["schedule"].get("report_due")
        if due:
            steps.append(f"评标报告应于 {due:%Y-%m-%d} 前提交（2 个工作日）。")
    elif state is S.RESULT_PENDING:
        due = ctx["schedule"].get("pick_due")
        steps.append("评标报告已提交：请按推荐排序确定中标人" +
                     (f"（{due:%Y-%m-%d} 前，5 个工作日内）" if due else "") +
                     "；不选排名第一者须写明理由。定标后中标公告即发布，公告期 1 个工作日。")
    elif state is S.AWARDED:
        open_challenges = [c for c in tender.challenges if c.state is ChallengeState.OPEN]
        if open_challenges:
            steps.append(f"有 {len(open_challenges)} 件质疑待答复，请在收到后 7 个工作日内书面答复。")
        block = award_service.signing_block(tender)
        if block:
            steps.append(block)
        else:
            steps.append(f"可以签订合同：应在中标公告发布后 30 日内签订。质疑期至 "
                         f"{tender.challenge_until:%Y-%m-%d}。")
    elif state is S.FAILED:
        steps.append("项目已废标。如需继续采购，请重新招标或经批准改变采购方式。")
    elif state is S.CANCELLED:
        steps.append("项目已取消。")
    return steps


def page_context(tender: Tender, forms: dict | None = None) -> dict:
    user = current_user
    manage = can_manage(user, tender)
    opened = is_opened(tender)
    schedule = services.schedule(tender)
    documents = [d for d in tender.documents if d.kind is DocumentKind.TENDER]
    attachments = {}
    for d in tender.documents:
        if d.clarification_id:
            attachments.setdefault(d.clarification_id, []).append(d)
    bids = sorted((b for b in tender.submitted_bids if opened and can_read_bid(user, b)),
                  key=lambda b: b.opening_order or 0)
    show_committee = can_see_committee(user, tender)
    ctx = dict(tender=tender, manage=manage, opened=opened, schedule=schedule,
               documents=documents, attachments=attachments, bids=bids,
               bid_count=len(tender.submitted_bids), draws=draws(tender),
               show_committee=show_committee,
               members=evaluation.members(tender, active_only=False) if show_committee else [],
               rounds=round_views(tender, user), ranking=[], confirm=ConfirmForm(),
               now=clock.now(), challenges=[], forms={}, qualify_forms={}, answer_forms={},
               signing_block=None)
    ctx["estimated_years"] = estimated_years(tender, schedule)
    if tender.state in (S.RESULT_PENDING, S.AWARDED) and can_see_all_scores(user, tender):
        ctx["ranking"] = [e for e in evaluation.final_ranking(tender) if can_read_bid(user, e.bid)]
    if tender.state is S.AWARDED:
        ctx["signing_block"] = award_service.signing_block(tender)
        ctx["challenges"] = [(c, award_service.answer_due(c)) for c in tender.challenges]
    ctx["winner_price_visible"] = bool(tender.awarded_bid and (
        can_read_bid(user, tender.awarded_bid) or tender.notice_published_at is not None)
        and opened)
    if manage:
        ctx["forms"] = _action_forms(tender, forms or {})
        if tender.state is S.OPENED:
            ctx["qualify_forms"] = {b.id: (forms or {}).get(f"bid-{b.id}") or qualify_form(b)
                                    for b in bids}
        ctx["answer_forms"] = {c.id: (forms or {}).get(f"challenge-{c.id}") or answer_form(c)
                               for c in tender.challenges if c.state is ChallengeState.OPEN}
        ctx["next_steps"] = next_steps(tender, ctx)
    else:
        ctx["next_steps"] = []
    return ctx


def _action_forms(tender: Tender, given: dict) -> dict:
    """The forms that fit the tender's state (the services still check)."""
    state = tender.state
    wanted = []
    if state is S.DRAFT:
        wanted.append("document")
        if tender.method is TenderMethod.INVITED:
            wanted += ["invite", "draw"]
    if state in ACCEPTING_BIDS and clock.now() < tender.bid_deadline:
        wanted.append("clarify")
    if state in evaluation.COMMITTEE_STATES:
        wanted.append("committee")
    if (state in evaluation.COMMITTEE_STATES or state is S.EVALUATING) and evaluation.members(tender):
        wanted.append("replace")
    if state is S.RESULT_PENDING:
        wanted.append("award")
    if TENDER.allowed(state, S.FAILED) and not (state in ACCEPTING_BIDS
                                                 and clock.now() < tender.bid_deadline):
        wanted.append("fail")
    if TENDER.allowed(state, S.CANCELLED):
        wanted.append("cancel")
    return {name: given.get(name) or FORM_BUILDERS[name](tender) for name in wanted}


def sheet_state_label(sheet) -> str:
    return "" if sheet is None or sheet.state is SheetState.SUBMITTED else sheet.state.label


def render_show(tender: Tender, forms: dict | None = None, status: int = 200):
    return render_template("tenders/show.html", **page_context(tender, forms),
                           sheet_state_label=sheet_state_label), status
