"""What each rater owes: for every agreement in force the user may see, its communities, its
periods that have started and each source the user rates, the sheet and its state. The
"我的评分" page lists these slots; the home page turns the pressing ones into to-dos: the
agency's self-assessments due within ten days, late or returned; the other raters' sheets
of periods that have ended; the street office's self-assessments waiting for review.

Periods are read, never created here (a GET writes nothing): quarters not yet stored are
worked out from the agreement's dates exactly as plan.periods would store them."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, Cooperation
from procurement.contracts.rules import quarters
from procurement.contracts.states import DocumentState, EvaluationSource as Src
from procurement.core import clock
from procurement.evaluations import plan
from procurement.evaluations.models import EvaluationPeriod, EvaluationSheet, PeriodResult
from procurement.evaluations.permissions import OFFICE_RATERS, can_rate
from procurement.evaluations.states import SHEET_SOURCES, PeriodKind, SheetState
from procurement.extensions import db
from procurement.home.todos import Todo, provides
from procurement.tasks.permissions import visible_agreements

EDITABLE = (SheetState.DRAFT, SheetState.RETURNED)
DUE_SOON_DAYS = 10
RATER_ROLES = (Role.AGENCY_STAFF, Role.COMMITTEE_STAFF, *OFFICE_RATERS,
               Role.UNIVERSITY_EVALUATOR)
_ORDER = {PeriodKind.QUARTER: 0, PeriodKind.MIDTERM: 1, PeriodKind.FINAL: 2}


@dataclass
class Slot:
    """One sheet a user rates: filled or not."""
    agreement: Agreement
    period: EvaluationPeriod  # possibly not stored yet (then its id is None)
    community: object
    source: Src
    sheet: EvaluationSheet | None
    final: bool  # the period's result is finalised: nothing may change
    today: date

    @property
    def state(self) -> SheetState | None:
        return self.sheet.state if self.sheet is not None else None

    @property
    def open(self) -> bool:
        """Still to be filled in (or revised) by the rater."""
        return not self.final and (self.sheet is None or self.sheet.state in EDITABLE)

    @property
    def due(self) -> date | None:
        return self.period.self_due if self.source is Src.SELF else None

    @property
    def late(self) -> bool:
        """A self-assessment submitted after its due date, or still missing after it."""
        if self.source is not Src.SELF:
            return False
        if self.sheet is not None and self.sheet.state not in EDITABLE:
            return self.sheet.late
        return not self.final and self.today > self.period.self_due

    @property
    def url(self) -> str | None:
        if self.sheet is not None and not self.open:
            return url_for("sheets.show", sheet_id=self.sheet.id)
        if self.final:
            return None
        return url_for("sheets.fill", agreement_id=self.agreement.id,
                       kind=self.period.kind.value, number=self.period.number,
                       community_id=self.community.id, source=self.source.value)


def rated_agreements(user):
    """The agreements in force the user may see, with what the slots need loaded."""
    return (visible_agreements(user).where(Agreement.state == DocumentState.IN_FORCE)
            .options(joinedload(Agreement.cooperation), selectinload(Agreement.communities))
            .order_by(Agreement.start_date.desc(), Agreement.id.desc()))


def started_periods(agreements, today: date) -> dict[int, list[EvaluationPeriod]]:
    """Each agreement's periods that have started, stored or not (one query)."""
    found = defaultdict(list)
    ids = [a.id for a in agreements]
    if ids:
        for period in db.session.scalars(sa.select(EvaluationPeriod).where(
                EvaluationPeriod.agreement_id.in_(ids))):
            found[period.agreement_id].append(period)
    result = {}
    for agreement in agreements:
        periods = found[agreement.id]
        stored = {p.number for p in periods if p.kind is PeriodKind.QUARTER}
        for quarter in quarters(agreement.start_date, agreement.end_date):
            if quarter.number not in stored:
                # Transient: never added to the session, so nothing is written.
                periods.append(EvaluationPeriod(
                    agreement_id=agreement.id, kind=PeriodKind.QUARTER, number=quarter.number,
                    start_date=quarter.start, end_date=quarter.end,
                    self_due=plan.self_due(quarter.end)))
        result[agreement.id] = sorted((p for p in periods if p.start_date <= today),
                                      key=lambda p: (_ORDER[p.kind], p.number))
    return result


def worklist(user, agreements, today: date | None = None) -> list[Slot]:
    """Every sheet the user rates in these agreements' started periods, in a fixed number
    of queries."""
    today = today or clock.today()
    agreements = list(agreements)
    periods = started_periods(agreements, today)
    stored = [p.id for ps in periods.values() for p in ps if p.id is not None]
    sheets, finals = {}, set()
    if stored:
        for sheet in db.session.scalars(sa.select(EvaluationSheet).where(
                EvaluationSheet.period_id.in_(stored))):
            sheets[(sheet.period_id, sheet.community_id, sheet.source)] = sheet
        finals = {tuple(row) for row in db.session.execute(
            sa.select(PeriodResult.period_id, PeriodResult.community_id)
            .where(PeriodResult.period_id.in_(stored)))}
    slots = []
    for agreement in agreements:
        communities = sorted((row.community for row in agreement.communities),
                             key=lambda c: c.name)
        for period in periods[agreement.id]:
            for community in communities:
                for source in SHEET_SOURCES:
                    if can_rate(user, agreement, community, source):
                        slots.append(Slot(agreement, period, community, source,
                                          sheets.get((period.id, community.id, source)),
                                          (period.id, community.id) in finals, today))
    return slots


def awaiting_review(user):
    """Submitted self-assessments of the street office's agreements, not yet finalised."""
    if not user.has_role(*OFFICE_RATERS):
        return sa.select(EvaluationSheet).where(sa.false())
    finalised = sa.select(PeriodResult.id).where(
        PeriodResult.period_id == EvaluationSheet.period_id,
        PeriodResult.community_id == EvaluationSheet.community_id)
    return (sa.select(EvaluationSheet)
            .join(EvaluationPeriod, EvaluationPeriod.id == EvaluationSheet.period_id)
            .join(Agreement, Agreement.id == EvaluationPeriod.agreement_id)
            .join(Cooperation, Cooperation.id == Agreement.cooperation_id)
            .where(Cooperation.street_office_id == user.org_id,
                   EvaluationSheet.source == Src.SELF,
                   EvaluationSheet.state == SheetState.SUBMITTED, ~sa.exists(finalised)))


# --- home-page to-dos -------------------------------------------------------------------


def _pressing(slot: Slot, today: date) -> str | None:
    """Why an open slot is a to-do now, if it is."""
    if not slot.open:
        return None
    if slot.source is Src.SELF:
        if slot.state is SheetState.RETURNED:
            return "returned"
        if today > slot.period.self_due:
            return "late"
        if slot.period.self_due <= today + timedelta(days=DUE_SOON_DAYS):
            return "due"
        return None
    return "ended" if slot.period.end_date < today else None


@provides(*RATER_ROLES)
def sheet_todos(user) -> list[Todo]:
    today = clock.today()
    agreements = db.session.scalars(rated_agreements(user)).unique().all()
    groups: dict[tuple, list[Slot]] = defaultdict(list)
    for slot in worklist(user, agreements, today):
        why = _pressing(slot, today)
        if why:
            key = (slot.agreement.id, slot.period.kind, slot.period.number, slot.source, why)
            groups[key].append(slot)
    items = []
    for key, group in groups.items():
        source, why, first = key[3], key[4], group[0]
        period, n = first.period.label, len(group)
        names = "、".join(s.community.name for s in group[:3]) + (_("等") if n > 3 else "")
        detail = _("%(agreement)s：%(communities)s", agreement=str(first.agreement),
                   communities=names)
        url = first.url if n == 1 else url_for("sheets.index")
        if why == "due":
            items.append(Todo(_("%(period)s机构自评将于 %(due)s 截止（%(n)s 个社区）", period=period,
                                due=first.period.self_due.isoformat(), n=n),
                              url, detail, due=first.period.self_due))
        elif why == "late":
            items.append(Todo(_("%(period)s机构自评已逾期未提交（%(n)s 个社区）", period=period, n=n),
                              url, detail, due=first.period.self_due, urgent=True))
        elif why == "returned":
            items.append(Todo(_("%(period)s机构自评被退回修改（%(n)s 个社区）", period=period, n=n),
                              url, detail, due=first.period.self_due, urgent=True))
        else:
            items.append(Todo(_("%(period)s已结束，%(source)s待提交（%(n)s 个社区）", period=period,
                                source=source.label, n=n), url, detail))
    return items


@provides(*OFFICE_RATERS)
def review_todos(user) -> list[Todo]:
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(
        awaiting_review(user).subquery()))
    if not waiting:
        return []
    return [Todo(_("%(n)s 份机构自评待审核", n=waiting), url_for("sheets.index", _anchor="reviews"),
                 _("审核通过，或写明意见退回修改。"))]
