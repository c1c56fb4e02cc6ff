"""An agreement's evaluation gathered for reading: per community and period, each source's
state, score and weight, the finalised result or a provisional composite, what is still
missing and who must act, and the share of the maximum each dimension scored. The pages,
the period report PDF and the Excel export all read it, so they show the same numbers.

Scores follow scoring.source_scores (a submitted sheet counts, the self-assessment once
accepted, the residents' score is the mean of the survey's answers), but are read for a whole
agreement in a fixed handful of queries rather than two per period and community."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.contracts.models import Agreement, AgreementCommunity, Cooperation
from procurement.contracts.rules import grade_for
from procurement.contracts.states import EvaluationSource as Src, Grade
from procurement.core import clock
from procurement.core.numbers import HUNDRED
from procurement.evaluations import plan
from procurement.evaluations.models import (EvaluationPeriod, EvaluationScore, EvaluationSheet,
                                            Indicator, PeriodResult, Survey, SurveyResponse)
from procurement.evaluations.scoring import compose, round_score
from procurement.evaluations.states import PeriodKind, SheetState, SurveyState
from procurement.extensions import db
from procurement.orgs.models import Community

# The order of the columns everywhere: the purchaser, the supervisor, the professional
# evaluation, the residents, then the agency's own view.
SOURCES = (Src.STREET_OFFICE, Src.COMMITTEE, Src.UNIVERSITY, Src.RESIDENTS, Src.SELF)
# Sheets whose content others may read: a draft is its rater's own, a returned
# self-assessment is being rewritten.
READABLE = frozenset({SheetState.SUBMITTED, SheetState.ACCEPTED})


def counted(sheet: EvaluationSheet) -> bool:
    """The rule of scoring.source_scores: a sheet counts once submitted, the agency's
    self-assessment once the street office accepted it."""
    if sheet.source is Src.SELF:
        return sheet.state is SheetState.ACCEPTED
    return sheet.state in READABLE


def _counted_in_sql():
    return sa.or_(
        sa.and_(EvaluationSheet.source == Src.SELF, EvaluationSheet.state == SheetState.ACCEPTED),
        sa.and_(EvaluationSheet.source != Src.SELF, EvaluationSheet.state.in_(READABLE)))


# --- who reads which community --------------------------------------------------------------


def _scoped(user, *columns):
    """A select of `columns` over the agreement-community rows the user reads, with the rule
    of permissions.can_view: everyone who reads an agreement's evaluations reads all its
    communities, except a residents' committee, which reads its own."""
    query = (sa.select(*columns)
             .select_from(AgreementCommunity)
             .join(Community, Community.id == AgreementCommunity.community_id)
             .join(Agreement, Agreement.id == AgreementCommunity.agreement_id)
             .join(Cooperation, Cooperation.id == Agreement.cooperation_id))
    if user.has_role(Role.AUDITOR):
        return query
    conditions = []
    if user.has_role(Role.AGENCY_STAFF):
        conditions.append(Cooperation.agency_id == user.org_id)
    if user.has_role(Role.CONTRACT_MANAGER, Role.LEADER, Role.FINANCE_OFFICER):
        conditions.append(Cooperation.street_office_id == user.org_id)
    if user.has_role(Role.UNIVERSITY_EVALUATOR):
        conditions.append(Cooperation.university_id == user.org_id)
    if user.has_role(Role.COMMITTEE_STAFF):
        conditions.append(Community.committee_id == user.org_id)
    return query.where(sa.or_(*conditions)) if conditions else query.where(sa.false())


def readable_communities(user, agreement_ids):
    """(agreement id, Community) rows the user may read among these agreements'."""
    return (_scoped(user, AgreementCommunity.agreement_id, Community)
            .where(AgreementCommunity.agreement_id.in_(agreement_ids))
            .options(joinedload(Community.committee))
            .order_by(AgreementCommunity.agreement_id, AgreementCommunity.community_id))


def communities_of(user, agreement: Agreement) -> list[Community]:
    return [c for _, c in db.session.execute(readable_communities(user, [agreement.id]))]


# --- one period of one community ---------------------------------------------------------------


@dataclass(frozen=True)
class SurveyFacts:
    id: int
    size: int
    state: SurveyState
    closes_at: datetime
    responses: int
    score: Decimal | None

    @property
    def state_label(self) -> str:
        """An open survey past its closing time takes no more answers: say so."""
        if self.state is SurveyState.OPEN and clock.now() >= self.closes_at:
            return _("已截止")
        return self.state.label


@dataclass(frozen=True)
class Cell:
    """One source's part of a period for a community."""
    source: Src
    weight: Decimal  # the contract's weight; 0 when the source does not count
    sheet: EvaluationSheet | None = None
    survey: SurveyFacts | None = None
    score: Decimal | None = None  # what the composite counts

    @property
    def weighted(self) -> Decimal | None:
        return None if self.score is None or not self.weight else round_score(
            self.weight * self.score)

    @property
    def readable(self) -> bool:
        """Whether the sheet's content (comments, indicator scores) may be shown."""
        return self.sheet is not None and self.sheet.state in READABLE

    @property
    def late(self) -> bool:
        return bool(self.sheet and self.sheet.late)

    @property
    def status(self) -> str:
        if self.source is Src.RESIDENTS:
            if self.survey is None:
                return _("未开展")
            return _("%(state)s · 答卷 %(n)s/%(size)s", state=self.survey.state_label,
                     n=self.survey.responses, size=self.survey.size)
        if self.sheet is None or self.sheet.state is SheetState.DRAFT:
            return _("未提交")  # a draft is its rater's own business
        if self.source is Src.SELF and self.sheet.state is SheetState.SUBMITTED:
            return _("已提交，待审核")
        return self.sheet.state.label


@dataclass(frozen=True)
class Todo:
    """Something missing before the period can be finalised, and who must act."""
    what: str
    who: str
    blocking: bool  # a weighted source: finalising needs it, or a recorded reason


@dataclass
class PeriodRow:
    period: EvaluationPeriod
    community: Community
    cells: list[Cell]
    result: PeriodResult | None
    provisional: Decimal | None = None
    provisional_grade: Grade | None = None
    todos: list[Todo] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.result is not None

    @property
    def ended(self) -> bool:
        return clock.today() > self.period.end_date

    @property
    def started(self) -> bool:
        return clock.today() >= self.period.start_date

    @property
    def composite(self) -> Decimal | None:
        return self.result.composite if self.result else self.provisional

    @property
    def missing(self) -> list[Src]:
        return [c.source for c in self.cells if c.weight > 0 and c.score is None]

    def cell(self, source: Src) -> Cell:
        return next(c for c in self.cells if c.source is source)


def _todos(row: PeriodRow, cooperation: Cooperation) -> list[Todo]:
    """What is missing for an ended period not yet finalised, naming who must act."""
    if row.final or not row.ended:
        return []
    office, agency = cooperation.street_office.name, cooperation.agency.name
    raters = {Src.STREET_OFFICE: office, Src.COMMITTEE: row.community.committee.name,
              Src.UNIVERSITY: cooperation.university.name if cooperation.university else "",
              Src.SELF: agency}
    todos = []
    for cell in row.cells:
        blocking = cell.weight > 0
        # The agency's quarterly self-assessment is due whatever its weight.
        due = blocking or (cell.source is Src.SELF and row.period.kind is PeriodKind.QUARTER)
        if not due or cell.score is not None:
            continue
        label = cell.source.label
        if cell.source is Src.RESIDENTS:
            if cell.survey is None:
                todos.append(Todo(_("%(source)s未开展", source=label), office, blocking))
            else:
                todos.append(Todo(_("%(source)s答卷不足（%(n)s/%(size)s）", source=label,
                                    n=cell.survey.responses, size=cell.survey.size),
                                  office, blocking))
            continue
        state = cell.sheet.state if cell.sheet else SheetState.DRAFT
        if state is SheetState.SUBMITTED:  # only the self-assessment waits here
            todos.append(Todo(_("%(source)s待审核", source=label), office, blocking))
        elif state is SheetState.RETURNED:
            todos.append(Todo(_("%(source)s已退回修改，待重新提交", source=label),
                              raters[cell.source], blocking))
        elif cell.source is Src.SELF and clock.today() > row.period.self_due:
            todos.append(Todo(_("%(source)s逾期未提交（应于 %(due)s 前提交）", source=label,
                                due=row.period.self_due.isoformat()), agency, blocking))
        else:
            todos.append(Todo(_("%(source)s未提交", source=label), raters[cell.source],
                              blocking))
    return todos


# --- a whole agreement ---------------------------------------------------------------------------


@dataclass
class Board:
    """An agreement's evaluation for the communities a user reads."""
    agreement: Agreement
    weights: dict[Src, Decimal]
    periods: list[EvaluationPeriod]
    communities: list[Community]
    rows: dict[int, list[PeriodRow]]  # by community id, in period order

    def row(self, period_id: int, community_id: int) -> PeriodRow | None:
        return next((r for r in self.rows.get(community_id, []) if r.period.id == period_id),
                    None)

    def quarter_rows(self, community_id: int) -> list[PeriodRow]:
        return [r for r in self.rows[community_id] if r.period.kind is PeriodKind.QUARTER]


def _surveys(period_ids, community_ids) -> dict[tuple[int, int], SurveyFacts]:
    answers = (sa.select(SurveyResponse.survey_id,
                         sa.func.count(SurveyResponse.id).label("n"),
                         sa.func.sum(SurveyResponse.score).label("total"))
               .group_by(SurveyResponse.survey_id).subquery())
    rows = db.session.execute(
        sa.select(Survey.id, Survey.period_id, Survey.community_id, Survey.size, Survey.state,
                  Survey.closes_at, answers.c.n, answers.c.total)
        .outerjoin(answers, answers.c.survey_id == Survey.id)
        .where(Survey.period_id.in_(period_ids), Survey.community_id.in_(community_ids)))
    return {(r.period_id, r.community_id): SurveyFacts(
        id=r.id, size=r.size, state=r.state, closes_at=r.closes_at, responses=r.n or 0,
        score=round_score(Decimal(r.total) / r.n) if r.n else None) for r in rows}


def board(agreement: Agreement, communities: list[Community],
          periods: list[EvaluationPeriod] | None = None) -> Board:
    """Everything the agreement page shows, for these communities (already scoped to the
    reader) and periods (all of the agreement's by default)."""
    periods = plan.periods(agreement) if periods is None else periods
    weights = plan.weights_of(agreement)
    bands = plan.bands_of(agreement)
    period_ids = [p.id for p in periods]
    community_ids = [c.id for c in communities]
    cooperation = db.session.scalar(
        sa.select(Cooperation).where(Cooperation.id == agreement.cooperation_id)
        .options(joinedload(Cooperation.street_office), joinedload(Cooperation.agency),
                 joinedload(Cooperation.university)))
    sheets = {(s.period_id, s.community_id, s.source): s for s in db.session.scalars(
        sa.select(EvaluationSheet).where(EvaluationSheet.period_id.in_(period_ids),
                                         EvaluationSheet.community_id.in_(community_ids)))}
    surveys = _surveys(period_ids, community_ids)
    results = {(r.period_id, r.community_id): r for r in db.session.scalars(
        sa.select(PeriodResult).where(PeriodResult.period_id.in_(period_ids),
                                      PeriodResult.community_id.in_(community_ids))
        .options(joinedload(PeriodResult.finalised_by).lazyload(User.role_rows)))}
    rows: dict[int, list[PeriodRow]] = {}
    for community in communities:
        rows[community.id] = []
        for period in periods:
            cells = []
            for source in SOURCES:
                weight = weights.get(source, Decimal(0))
                if source is Src.RESIDENTS:
                    survey = surveys.get((period.id, community.id))
                    cells.append(Cell(source, weight, survey=survey,
                                      score=survey.score if survey else None))
                else:
                    sheet = sheets.get((period.id, community.id, source))
                    cells.append(Cell(source, weight, sheet=sheet,
                                      score=sheet.total if sheet and counted(sheet) else None))
            row = PeriodRow(period, community, cells, results.get((period.id, community.id)))
            if not row.final and not row.missing and any(w > 0 for w in weights.values()):
                row.provisional = compose(weights, {c.source: c.score for c in cells})[0]
                row.provisional_grade = grade_for(row.provisional, bands)
            row.todos = _todos(row, cooperation)
            rows[community.id].append(row)
    return Board(agreement, weights, periods, communities, rows)


# --- scores by dimension ----------------------------------------------------------------------


@dataclass(frozen=True)
class DimensionShare:
    dimension: str
    share: Decimal  # points scored as a percentage of the points available


def dimension_shares(periods, community_ids) -> dict[int, dict[Src, list[DimensionShare]]]:
    """Per community and source, each dimension's points as a share of its maximum over the
    counted sheets of these periods: (sum of scores) ÷ (sum of maxima) × 100."""
    rows = db.session.execute(
        sa.select(EvaluationSheet.community_id, EvaluationSheet.source, Indicator.dimension,
                  sa.func.sum(EvaluationScore.score).label("points"),
                  sa.func.sum(Indicator.max_score).label("available"),
                  sa.func.min(Indicator.position).label("position"))
        .join(EvaluationScore, EvaluationScore.sheet_id == EvaluationSheet.id)
        .join(Indicator, Indicator.id == EvaluationScore.indicator_id)
        .where(EvaluationSheet.period_id.in_([p.id for p in periods]),
               EvaluationSheet.community_id.in_(community_ids), _counted_in_sql())
        .group_by(EvaluationSheet.community_id, EvaluationSheet.source, Indicator.dimension)
        .order_by(sa.text("position")))
    found: dict[int, dict[Src, list[DimensionShare]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.available:
            found[r.community_id][Src(r.source)].append(DimensionShare(
                r.dimension, round_score(Decimal(r.points) * HUNDRED / Decimal(r.available))))
    return {cid: {s: by_source[s] for s in SOURCES if s in by_source}
            for cid, by_source in found.items()}


# --- the index: each community's latest result --------------------------------------------------


@dataclass(frozen=True)
class Latest:
    community: Community
    result: PeriodResult | None
    period: EvaluationPeriod | None


def latest_results(user, agreement_ids) -> dict[int, list[Latest]]:
    """Per agreement, each community the user reads with its latest finalised result."""
    pairs = db.session.execute(readable_communities(user, agreement_ids)).all()
    readable = (_scoped(user, AgreementCommunity.agreement_id, AgreementCommunity.community_id)
                .where(AgreementCommunity.agreement_id.in_(agreement_ids)).subquery())
    results = db.session.execute(
        sa.select(PeriodResult, EvaluationPeriod)
        .join(EvaluationPeriod, EvaluationPeriod.id == PeriodResult.period_id)
        .join(readable, sa.and_(readable.c.agreement_id == EvaluationPeriod.agreement_id,
                                readable.c.community_id == PeriodResult.community_id))
        .order_by(EvaluationPeriod.end_date, EvaluationPeriod.id)).all()
    last = {}
    for result, period in results:  # in time order: the last one seen is the latest
        last[(period.agreement_id, result.community_id)] = (result, period)
    found: dict[int, list[Latest]] = defaultdict(list)
    for agreement_id, community in pairs:
        result, period = last.get((agreement_id, community.id), (None, None))
        found[agreement_id].append(Latest(community, result, period))
    return found


# --- the export ------------------------------------------------------------------------------------


def indicator_rows(periods, community_ids):
    """Indicator scores of the sheets others may read, in period, community, source and
    indicator order: (period id, community id, source, state, dimension, indicator, score,
    max)."""
    order = {p.id: n for n, p in enumerate(periods)}
    rows = db.session.execute(
        sa.select(EvaluationSheet.period_id, EvaluationSheet.community_id,
                  EvaluationSheet.source, EvaluationSheet.state, Indicator.dimension,
                  Indicator.name, EvaluationScore.score, Indicator.max_score,
                  Indicator.position)
        .join(EvaluationScore, EvaluationScore.sheet_id == EvaluationSheet.id)
        .join(Indicator, Indicator.id == EvaluationScore.indicator_id)
        .where(EvaluationSheet.period_id.in_(list(order)),
               EvaluationSheet.community_id.in_(community_ids),
               EvaluationSheet.state.in_(READABLE))).all()
    return sorted(rows, key=lambda r: (order[r.period_id], r.community_id,
                                       SOURCES.index(Src(r.source)), r.position))


def percent(weight: Decimal) -> str:
    """A weight as the contract writes it: 0.3 → 30%, 0.2857 → 28.57%."""
    value = (weight * HUNDRED).quantize(Decimal("0.01")).normalize()
    return f"{value:f}%"
