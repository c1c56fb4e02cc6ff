"""Forms for amendments (变更) and special-service agreements (专项服务合作协议). The money
fields are built per agreement: one amount per community and one field per budget category.
The services check the sums; the forms only read the numbers."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField, TextAreaField

from procurement.contracts.forms import MONEY_INPUT, BudgetRows, with_budget_rows
from procurement.contracts.states import BudgetCategory
from procurement.core.forms import LocalDateField, MoneyField, TextField, max_length, required, trim


class AmendmentForm(BudgetRows, FlaskForm):
    reason = TextAreaField(_l("变更原因"), filters=[trim],
                           validators=[required("变更原因"), max_length(5000)],
                           render_kw={"rows": 3})
    end_date = LocalDateField(_l("协议结束日期"),
                              description=_l("年度协议最长 1 年，且在合作期之内。"))
    submit = SubmitField(_l("提交变更，交各方签署"))


def amendment_form(agreement) -> AmendmentForm:
    """Prefilled with the agreement's current end date, amounts and budget lines: an
    amendment changes existing lines."""
    return with_budget_rows(AmendmentForm, agreement, {"end_date": agreement.end_date},
                            lambda row: _l("%(name)s年度金额", name=row.community.name),
                            _l("元；该社区各预算科目之和须与此金额分毫不差。"))


class SpecialForm(FlaskForm):
    title = TextField(_l("专项服务名称"), validators=[required("专项服务名称"), max_length(200)])
    content = TextAreaField(_l("服务内容"), filters=[trim],
                            validators=[required("服务内容"), max_length(10000)],
                            description=_l("上级部门交办的临时性、阶段性或应急性任务的内容、"
                                           "数量和要求。"),
                            render_kw={"rows": 5})
    start_date = LocalDateField(_l("开始日期"))
    end_date = LocalDateField(_l("结束日期"))
    submit = SubmitField(_l("提交，交各方签署"))

    lines: list = []  # [(BudgetCategory, field), ...]

    def budget(self) -> dict[BudgetCategory, int]:
        """Blank fields count as zero; the amount is the sum."""
        return {category: field.data or 0 for category, field in self.lines}


def special_form(agreement) -> SpecialForm:
    class Form(SpecialForm):
        pass

    for category in BudgetCategory:
        setattr(Form, f"budget_{category.value}", MoneyField(
            category.label, required_field=False, render_kw=MONEY_INPUT))
    form = Form(data={"end_date": agreement.end_date})
    form.lines = [(category, form[f"budget_{category.value}"]) for category in BudgetCategory]
    return form


class SignForm(FlaskForm):
    """Signs the version on screen: the hash shown travels with the click, and the service
    refuses it if the document changed in between."""

    shown_hash = HiddenField(validators=[required("版本校验码")])
    submit = SubmitField(_l("签署"))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("作废原因"), filters=[trim],
                           validators=[required("作废原因"), max_length(2000)],
                           render_kw={"rows": 2})
    submit = SubmitField(_l("作废"))
