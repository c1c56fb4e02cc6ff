"""The period report (评估报告) of one community for one evaluation period, as gathered for
templates/pdf/evaluation_period_report.html: the agreement and its parties, the sources with
their weights, scores and weighted scores, the composite and grade once finalised (the
result's own breakdown, which holds the re-weighted weights when the street office
re-weighted), each source's comments, the residents' survey and the self-assessment's
completion summary. The numbers come from overview.board, as on the agreement page."""
from decimal import Decimal

from procurement.contracts.states import EvaluationSource as Src
from procurement.evaluations import overview
from procurement.evaluations.models import EvaluationPeriod
from procurement.orgs.models import Community


def report_context(period: EvaluationPeriod, community: Community) -> dict:
    agreement = period.agreement
    board = overview.board(agreement, [community], [period])
    row = board.row(period.id, community.id)
    result = row.result
    if result is not None:
        used = {Src(line["source"]): line for line in result.breakdown}
        lines = [{"source": c.source, "status": c.status, "late": c.late,
                  "weight": Decimal(used[c.source]["weight"]) if c.source in used else None,
                  "score": Decimal(used[c.source]["score"]) if c.source in used else c.score,
                  "weighted": Decimal(used[c.source]["weighted"]) if c.source in used else None}
                 for c in row.cells]
    else:
        lines = [{"source": c.source, "status": c.status, "late": c.late,
                  "weight": c.weight or None, "score": c.score, "weighted": c.weighted}
                 for c in row.cells]
    comments = [{"source": c.source, "narrative": c.sheet.narrative,
                 "opinions": c.sheet.opinions, "submitted_at": c.sheet.submitted_at,
                 "review_comment": c.sheet.review_comment}
                for c in row.cells if c.readable]
    own = row.cell(Src.SELF)
    cooperation = agreement.cooperation
    return {
        "agreement": agreement, "period": period, "community": community,
        "street_office": cooperation.street_office, "agency": cooperation.agency,
        "university": cooperation.university, "committee": community.committee,
        "row": row, "result": result, "lines": lines,
        "comments": comments,
        "survey": row.cell(Src.RESIDENTS).survey,
        "completion": own.sheet.completion if own.readable else None,
        "self_sheet": own.sheet if own.readable else None,
        "percent": overview.percent,
    }
