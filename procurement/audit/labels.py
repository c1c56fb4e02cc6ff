"""Chinese names of audit actions and object types, for the auditor's pages.
Each domain adds its own actions here as it is built."""
ACTION_LABELS = {
    "user.create": "新建用户",
    "user.update": "修改用户",
    "user.activate": "启用用户",
    "user.deactivate": "停用用户",
    "user.password_reset": "重置密码",
    "user.password_change": "修改密码",
    "user.login": "登录",
    "user.login_failed": "登录失败",
    "user.locked": "账号锁定",
    "org.create": "新建组织",
    "org.update": "修改组织",
    "org.activate": "启用组织",
    "org.deactivate": "停用组织",
    "community.create": "新建社区",
    "community.update": "修改社区",
    "grid.create": "新增网格",
}

OBJECT_LABELS = {
    "users": "用户",
    "organisations": "组织",
    "communities": "社区",
    "grids": "网格",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def object_label(object_type: str | None) -> str:
    return OBJECT_LABELS.get(object_type or "", object_type or "")
