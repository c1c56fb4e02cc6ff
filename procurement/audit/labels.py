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
    "tender.create": "新建招标项目",
    "tender.update": "修改招标项目",
    "tender.document": "上传招标文件",
    "tender.invite": "邀请机构",
    "tender.uninvite": "撤销邀请",
    "tender.draw": "随机抽取邀请机构",
    "tender.publish": "发布招标",
    "tender.clarify": "发布澄清",
    "tender.close": "投标截止",
    "tender.open": "开标",
    "tender.evaluate": "开始评标",
    "tender.report": "提交评标报告",
    "tender.award": "定标并发布中标公告",
    "tender.fail": "废标",
    "tender.cancel": "取消招标",
    "bid.submit": "递交投标文件",
    "bid.replace": "重新递交投标文件",
    "bid.withdraw": "撤回投标文件",
    "bid.qualify": "资格审查",
    "bid.explain": "提交低价书面说明",
    "bid.low_price": "认定异常低价说明",
    "committee.form": "组建评标委员会",
    "committee.replace": "更换评委",
    "committee.declare": "回避声明",
    "score.submit": "提交评分",
    "score.correct": "更正评分",
    "round.close": "结束评分轮次",
    "challenge.file": "提出质疑",
    "challenge.answer": "答复质疑",
}

OBJECT_LABELS = {
    "users": "用户",
    "organisations": "组织",
    "communities": "社区",
    "grids": "网格",
    "tenders": "招标项目",
    "bids": "投标文件",
    "tender_challenges": "质疑",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def object_label(object_type: str | None) -> str:
    return OBJECT_LABELS.get(object_type or "", object_type or "")
