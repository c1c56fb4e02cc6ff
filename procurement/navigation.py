"""The main menu. An entry is shown only to users whose role may open its endpoint, using
the same access rules the request hook enforces (no permission logic in templates)."""
from dataclasses import dataclass

from flask import url_for

from procurement.core.permissions import is_allowed


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str


# (section, entries). Later domains add their sections here.
MENU: list[tuple[str, list[NavItem]]] = [
    ("系统管理", [NavItem("组织机构", "orgs.index"), NavItem("用户账号", "users.index")]),
    ("审计", [NavItem("审计日志", "audit.index"), NavItem("核验审计链", "audit.verify")]),
]


def navigation(user) -> list[tuple[str, list[tuple[str, str]]]]:
    sections = []
    for section, items in MENU:
        links = [(item.label, url_for(item.endpoint)) for item in items
                 if is_allowed(user, item.endpoint)]
        if links:
            sections.append((section, links))
    return sections
