"""Forms of the disbursement pages. They read and shape the input (money as integer fen,
dates, percentages); whether the step is allowed, and the amounts' limits, are the
services' rules (procurement/disbursements/services.py, spending.py)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Optional

from procurement.contracts.states import BudgetCategory, Grade
from procurement.core.forms import (DecimalTextField, LocalDateField, MoneyField, SelectField,
                                    TextField, max_length, required, trim)

GRADE_ORDER = (Grade.EXCELLENT, Grade.GOOD, Grade.PASS, Grade.FAIL)


def _reason(label, name: str, needed: bool = True):
    validators = [required(name) if needed else Optional(), max_length(1000)]
    return TextAreaField(label, filters=[trim], validators=validators, render_kw={"rows": 2})


class PayForm(FlaskForm):
    amount = MoneyField(_l("拨付金额（元）"),
                        description=_l("默认为应拨金额；少拨的须写明暂扣原因，填 0 即暂缓拨付。"))
    paid_on = LocalDateField(_l("拨付日期"))
    voucher_no = TextField(_l("拨付凭证号"), validators=[Optional(), max_length(40)])
    reason = _reason(_l("暂扣原因"), "暂扣原因", needed=False)


class ReleaseForm(FlaskForm):
    amount = MoneyField(_l("补拨金额（元）"))
    paid_on = LocalDateField(_l("拨付日期"))
    voucher_no = TextField(_l("拨付凭证号"), validators=[Optional(), max_length(40)])
    reason = _reason(_l("补拨理由（整改验收情况）"), "补拨理由")


class ReverseForm(FlaskForm):
    reason = _reason(_l("冲正原因"), "冲正原因")


class RuleForm(FlaskForm):
    """The share paid for each grade, typed as a percentage (90 or 90%)."""
    excellent = DecimalTextField(_l("优秀（%）"), places=2, minimum=0, maximum=100)
    good = DecimalTextField(_l("良好（%）"), places=2, minimum=0, maximum=100)
    basic = DecimalTextField(_l("基本合格（%）"), places=2, minimum=0, maximum=100)
    fail = DecimalTextField(_l("不合格（%）"), places=2, minimum=0, maximum=100)

    def fields_by_grade(self):
        return dict(zip(GRADE_ORDER, (self.excellent, self.good, self.basic, self.fail)))


def spending_form(categories, communities, quarters, posted: bool = False):
    """The agency's quarterly spending report: one amount per budget line the agreement
    has (blank lines are not reported), for a community and a quarter."""

    class SpendingForm(FlaskForm):
        community = SelectField(_l("社区"), coerce=int,
                                validators=[required("社区")])
        quarter = SelectField(_l("季度"), coerce=int, validators=[required("季度")])
        note = TextAreaField(_l("说明"), filters=[trim], validators=[Optional(), max_length(500)],
                             render_kw={"rows": 2})

        def amounts(self) -> dict[BudgetCategory, int]:
            return {c: self[f"amount_{c.value}"].data for c in categories
                    if self[f"amount_{c.value}"].data is not None}

        def amount_fields(self):
            return [self[f"amount_{c.value}"] for c in categories]

    for category in categories:
        setattr(SpendingForm, f"amount_{category.value}",
                MoneyField(category.label, required_field=False))
    form = SpendingForm() if posted else SpendingForm(formdata=None)
    form.community.choices = [(c.id, c.name) for c in communities]
    form.quarter.choices = [(q.number, q.label) for q in quarters]
    return form
