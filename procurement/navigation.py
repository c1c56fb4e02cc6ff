"""The main menu. An entry is shown only to users whose role may open its endpoint, using
the same access rules the request hook enforces (no permission logic in templates)."""
from dataclasses import dataclass

from flask import url_for
from flask_babel import lazy_gettext as _l

from procurement.core.permissions import is_allowed


@dataclass(frozen=True)
class NavItem:
    label: object  # a lazy string, translated when rendered
    endpoint: str


# (section, entries). Later domains add their sections here.
MENU: list[tuple[object, list[NavItem]]] = [
    (_l("招标采购"), [NavItem(_l("招标项目"), "tenders.index"), NavItem(_l("投标"), "bidding.index"),
                   NavItem(_l("评标"), "judging.index"), NavItem(_l("采购公告"), "notices.index")]),
    (_l("合同"), [NavItem(_l("合作与协议"), "contracts.index"),
                NavItem(_l("合同公示"), "notices.contracts")]),
    (_l("网格工作"), [NavItem(_l("服务清单与完成情况"), "work.index"),
                  NavItem(_l("工作记录"), "records.index"),
                  NavItem(_l("网格事件"), "cases.index"),
                  NavItem(_l("住户与企业台账"), "registers.index"),
                  NavItem(_l("服务团队"), "team.index")]),
    (_l("评估"), [NavItem(_l("多元评估"), "evaluations.index"),
                NavItem(_l("我的评分"), "sheets.index"),
                NavItem(_l("满意度调查"), "surveys.index")]),
    (_l("拨付"), [NavItem(_l("拨付台账"), "disbursements.index")]),
    (_l("系统管理"), [NavItem(_l("组织机构"), "orgs.index"), NavItem(_l("用户账号"), "users.index")]),
    (_l("审计"), [NavItem(_l("审计日志"), "audit.index"), NavItem(_l("核验审计链"), "audit.verify")]),
]


def navigation(user) -> list[tuple[object, list[tuple[object, str]]]]:
    sections = []
    for section, items in MENU:
        links = [(item.label, url_for(item.endpoint)) for item in items
                 if is_allowed(user, item.endpoint)]
        if links:
            sections.append((section, links))
    return sections
