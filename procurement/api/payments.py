"""Payment confirmations from the street office's finance system: the instalment approved on
the platform has been paid (or partly, or not at all), recorded through
`disbursements.services.pay`, the service the instalment page's 登记拨付 form calls. A second
confirmation of the same instalment is refused by its state machine, so a retried request
never pays twice."""
from procurement.accounts.roles import Role
from procurement.api import body, bp, commit, load, who, written
from procurement.api import spec as s
from procurement.api.work import INSTALMENT, instalment_json, paid_by_instalment
from procurement.core.permissions import allow
from procurement.disbursements import services
from procurement.disbursements.models import Instalment
from procurement.disbursements.permissions import can_view_account

PAYMENT = [
    body.day("paid_on", "拨付日期", required=True),
    body.text("voucher_no", "拨付凭证号", 40),
    body.money("amount", "拨付金额"),
    body.text("reason", "暂扣原因", 500),
]


@bp.route("/instalments/<int:instalment_id>/payments", methods=["POST"])
@allow(Role.FINANCE_OFFICER)
@s.operation("登记一期拨付（财务系统回传）", s.obj(data=INSTALMENT), tag="拨付", body=PAYMENT,
             description="只能登记已审批的分期。amount 省略时按应拨金额；少于应拨金额须写明"
                         "暂扣原因（reason），为 0 即暂缓拨付。拨付日期不能晚于今天，凭证号必填"
                         "（暂缓拨付除外）。")
def confirm_payment(instalment_id: int):
    instalment = load(Instalment, instalment_id,
                      lambda user, row: can_view_account(user, row.account))
    values = body.read(PAYMENT)
    commit(lambda: services.pay(who(), instalment, paid_on=values["paid_on"],
                                voucher_no=values.get("voucher_no") or "",
                                amount_fen=values.get("amount"), reason=values.get("reason") or ""))
    paid = paid_by_instalment([instalment.id]).get(instalment.id, 0)
    return written({"data": instalment_json(instalment, paid)})
