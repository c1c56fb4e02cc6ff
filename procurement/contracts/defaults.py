"""What a new agreement starts with, from the Lingyuan model (DOMAIN.md 3): the parties'
duties, the six sub-contracts (grid + centre), the budget split and evaluation settings.
The contract manager edits all of it before signing."""
from decimal import Decimal

from procurement.contracts.states import BudgetCategory, PartyRole, SubContractKind
from procurement.core.money import percent_of

DUTIES = {
    PartyRole.PURCHASER: "主导购买服务，组织招标，签订并资助合同；按季度根据评估结果拨付经费；"
                         "对承包方开展评估，主持中期和终期评估。",
    PartyRole.SUPERVISOR: "在融合期协助承包方进入社区开展工作；收集居民意见；每季度填写监督评价，"
                          "对服务过程进行监督。",
    PartyRole.RESEARCH: "设计服务模式，提供专业指导与培训；开展第三方专业评估并提出改进建议。",
    PartyRole.CONTRACTOR: "组建服务团队，运营社区公共服务中心并开展网格工作；按服务清单完成任务，"
                          "填报任务进度；每季度提交自评；接受各方监督和评估。",
}

SUB_CONTRACTS = [
    (SubContractKind.GRID, "网格走访与信息采集", "网格员入户走访，采集并更新人口、房屋、单位等基础信息。"),
    (SubContractKind.GRID, "网格事件与安全巡查", "发现、报告并跟进网格事件；对辖区企业、店铺开展安全巡查，"
                                             "开展“两违”巡查。"),
    (SubContractKind.GRID, "计生与环境卫生", "协助开展计划生育管理服务和环境卫生整治。"),
    (SubContractKind.CENTRE, "社区公共服务中心窗口服务", "中心窗口受理、办理、转办居民事项，"
                                                     "公开办事指南。"),
    (SubContractKind.CENTRE, "居家事务代办", "为老弱病残等居民上门代办事务。"),
    (SubContractKind.CENTRE, "社区活动与社会组织培育", "开展社区活动和培训，培育社区社会组织，"
                                                   "召开联席会议。"),
]

# Shares of a community's amount; the wages line takes what rounding leaves.
BUDGET_SHARES = [
    (BudgetCategory.WAGES, None),
    (BudgetCategory.TAX, Decimal("6")),
    (BudgetCategory.SUPERVISION, Decimal("5")),
    (BudgetCategory.MANAGEMENT, Decimal("5")),
    (BudgetCategory.TRAINING, Decimal("3")),
    (BudgetCategory.ACTIVITIES, Decimal("8")),
    (BudgetCategory.EVALUATION, Decimal("3")),
]


def budget_for(amount_fen: int) -> dict[BudgetCategory, int]:
    """A default split that adds up to the amount exactly."""
    lines = {category: percent_of(amount_fen, share) for category, share in BUDGET_SHARES
             if share is not None}
    lines[BudgetCategory.WAGES] = amount_fen - sum(lines.values())
    return {category: lines[category] for category, _ in BUDGET_SHARES}
