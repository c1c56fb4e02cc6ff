"""States of an instalment and kinds of payment movement."""
from flask_babel import lazy_gettext as _l

from procurement.core.states import LabelledEnum as Labelled, StateMachine


class InstalmentState(Labelled):
    SCHEDULED = "scheduled"
    REQUESTED = "requested"    # the contract manager asks for it, payable computed
    APPROVED = "approved"      # by a finance officer or leader, never the requester
    PAID = "paid"              # in full or in part (the rest withheld)
    WITHHELD = "withheld"      # nothing payable (不合格): all of it withheld
    CANCELLED = "cancelled"    # re-planned by an amendment before it was requested


class MovementKind(Labelled):
    PAYMENT = "payment"        # the instalment's payment
    RELEASE = "release"        # withheld money paid after rectification was accepted
    REVERSAL = "reversal"      # a recorded correction of a payment (negative)


I = InstalmentState
INSTALMENT = StateMachine("拨付", {
    I.SCHEDULED: {I.REQUESTED, I.CANCELLED},
    I.REQUESTED: {I.APPROVED, I.SCHEDULED},   # approval, or sent back to be re-requested
    I.APPROVED: {I.PAID, I.WITHHELD},
    I.PAID: {I.APPROVED},                      # only by a recorded reversal
})
OPEN = frozenset({I.SCHEDULED, I.REQUESTED, I.APPROVED})

LABELS = {(type(m), m.value): label for m, label in [
    (I.SCHEDULED, _l("待申请")), (I.REQUESTED, _l("已申请")), (I.APPROVED, _l("已审批")),
    (I.PAID, _l("已拨付")), (I.WITHHELD, _l("暂缓拨付")), (I.CANCELLED, _l("已取消")),
    (MovementKind.PAYMENT, _l("拨付")), (MovementKind.RELEASE, _l("补拨暂扣款")),
    (MovementKind.REVERSAL, _l("冲正")),
]}
