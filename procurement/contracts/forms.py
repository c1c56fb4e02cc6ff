"""Forms of the contract pages: creating a cooperation, editing an agreement before it is in
force, signing it. They read and shape the input; term limits, exact budget sums, weights and
bands are the services' rules. Forms whose fields depend on the agreement (one amount per
community, one textarea per party) are built per agreement by the functions below."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from procurement.contracts.states import (BudgetCategory, CooperationState, EvaluationSource,
                                          Grade, SubContractKind)
from procurement.core.forms import (DecimalTextField, LocalDateField, MoneyField, SearchForm,
                                    SelectField, TextField, enum_choices, max_length, required,
                                    trim)
from procurement.core.numbers import HUNDRED, percent_number

SUB_CONTRACT_ROWS = 8
DEFAULT_AMOUNT_FEN = 40_000_000  # Lingyuan: 400,000 yuan per community per year
MONEY_INPUT = {"inputmode": "decimal", "autocomplete": "off"}
BANDS = (Grade.EXCELLENT, Grade.GOOD, Grade.PASS)


# --- the list --------------------------------------------------------------------------


class CooperationFilterForm(SearchForm):
    state = SelectField(_l("状态"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [("", _l("全部状态")), *enum_choices(CooperationState)]


# --- creating a cooperation --------------------------------------------------------------


class CooperationForm(FlaskForm):
    university = SelectField(_l("调研提升方（高校）"), coerce=int,
                             validators=[DataRequired(message="请选择高校。")])
    start_date = LocalDateField(_l("合作开始日期"))
    end_date = LocalDateField(_l("合作结束日期"),
                              description=_l("合作期最长 3 年；第一份年度协议最长 1 年，"
                                             "从开始日期起算。"))
    justification = TextAreaField(
        _l("合作期超过 1 年的理由"), filters=[trim], validators=[max_length(2000)],
        description=_l("超过 1 年的，须写明服务稳定持续且资金有保障等理由（102号令第二十四条）。"),
        render_kw={"rows": 3})
    amount = MoneyField(_l("每个社区的年度金额（元）"), required_field=False,
                        render_kw=MONEY_INPUT,
                        description=_l("默认 400,000 元；留空则按中标金额平均分配到各社区。"))
    submit = SubmitField(_l("建立合作并起草第一年度协议"))

    def __init__(self, *args, universities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.university.choices = [(0, "—— 请选择 ——"), *universities]


# --- editing an agreement ----------------------------------------------------------------


class BudgetRows:
    """Per community an amount field and one field per budget line, added per agreement by
    `with_budget_rows`. The services check the sums; the form only reads the numbers."""

    # [(AgreementCommunity, amount field, [(BudgetCategory, field), ...]), ...]
    rows: list = []

    def amounts(self) -> dict[int, int]:
        return {row.community_id: amount.data for row, amount, _ in self.rows}

    def budget(self) -> dict[int, dict[BudgetCategory, int]]:
        """Blank budget fields count as zero."""
        return {row.community_id: {category: field.data or 0 for category, field in lines}
                for row, _, lines in self.rows}


def with_budget_rows(form_class, agreement, data: dict, amount_label, amount_help=None):
    """An instance of `form_class` (a BudgetRows form) with the agreement's communities and
    budget lines as money fields, prefilled (on a POST the posted values win)."""
    class Form(form_class):
        pass

    data = dict(data)
    layout = []
    for row in agreement.communities:
        cid = row.community_id
        setattr(Form, f"amount_{cid}", MoneyField(amount_label(row), render_kw=MONEY_INPUT,
                                                  description=amount_help))
        data[f"amount_{cid}"] = row.amount_fen
        lines = [line for line in agreement.budget_lines if line.community_id == cid]
        for line in lines:
            name = f"budget_{cid}_{line.category.value}"
            setattr(Form, name, MoneyField(line.category.label, required_field=False,
                                           render_kw=MONEY_INPUT))
            data[name] = line.amount_fen
        layout.append((row, cid, [line.category for line in lines]))
    form = Form(data=data)
    form.rows = [(row, form[f"amount_{cid}"],
                  [(category, form[f"budget_{cid}_{category.value}"]) for category in categories])
                 for row, cid, categories in layout]
    return form


class TermsForm(BudgetRows, FlaskForm):
    start_date = LocalDateField(_l("协议开始日期"))
    end_date = LocalDateField(_l("协议结束日期"),
                              description=_l("年度协议最长 1 年，且在合作期之内。"))
    submit = SubmitField(_l("保存金额与预算"))


def terms_form(agreement) -> TermsForm:
    """Dates, then per community its amount and one field per budget category."""
    return with_budget_rows(TermsForm, agreement,
                            {"start_date": agreement.start_date, "end_date": agreement.end_date},
                            lambda row: _l("年度金额（元）"))


class SubContractRow(Form):
    """One sub-contract; a row left entirely blank is ignored."""

    kind = SelectField(_l("类别"), default=SubContractKind.GRID.value)
    title = TextField(_l("名称"), validators=[Optional(), max_length(100)])
    content = TextAreaField(_l("内容"), filters=[trim], validators=[max_length(5000)],
                            render_kw={"rows": 2})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(SubContractKind)

    @property
    def blank(self) -> bool:
        return not self.title.data and not self.content.data

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.blank:
            return True
        ok = True
        if not self.title.data:
            self.title.errors.append("请填写子合同名称，或清空这一行。")
            ok = False
        if not self.content.data:
            self.content.errors.append("请填写子合同内容，或清空这一行。")
            ok = False
        return ok


class SubContractsForm(FlaskForm):
    sub_contracts = FieldList(FormField(SubContractRow), min_entries=SUB_CONTRACT_ROWS)
    submit = SubmitField(_l("保存子合同"))

    def rows(self) -> list[tuple[SubContractKind, str, str]]:
        return [(SubContractKind(entry.form.kind.data), entry.form.title.data,
                 entry.form.content.data)
                for entry in self.sub_contracts if not entry.form.blank]


def sub_contracts_form(agreement) -> SubContractsForm:
    rows = [{"kind": s.kind.value, "title": s.title, "content": s.content}
            for s in agreement.sub_contracts]
    rows += [{}] * max(SUB_CONTRACT_ROWS - len(rows), 2)
    return SubContractsForm(data={"sub_contracts": rows})


class DutiesForm(FlaskForm):
    submit = SubmitField(_l("保存各方职责"))

    rows: list = []  # [(AgreementParty, field), ...]

    def duties(self) -> dict[int, str]:
        return {party.org_id: field.data or "" for party, field in self.rows}


def duties_form(agreement) -> DutiesForm:
    class Form(DutiesForm):
        pass

    data = {}
    for party in agreement.parties:
        name = f"duties_{party.org_id}"
        setattr(Form, name, TextAreaField(
            f"{party.org.name}（{party.role.label}）", filters=[trim],
            validators=[required("该方职责"), max_length(5000)], render_kw={"rows": 3}))
        data[name] = party.duties
    form = Form(data=data)  # on a POST the posted values win
    form.rows = [(party, form[f"duties_{party.org_id}"]) for party in agreement.parties]
    return form


class EvaluationForm(FlaskForm):
    submit = SubmitField(_l("保存评估设置"))

    weight_fields: list = []  # [(EvaluationSource, field), ...]
    band_fields: list = []    # [(Grade, field), ...]

    def weights(self) -> dict[EvaluationSource, Decimal]:
        """Percentages typed ("30") as fractions (0.30); blank counts as no weight."""
        return {source: (field.data or Decimal(0)) / HUNDRED
                for source, field in self.weight_fields}

    def bands(self) -> dict[Grade, Decimal]:
        return {grade: field.data for grade, field in self.band_fields
                if field.data is not None}


def evaluation_form(agreement) -> EvaluationForm:
    class Form(EvaluationForm):
        pass

    data = {}
    weights = agreement.evaluation_weights or {}
    bands = agreement.grade_bands or {}
    for source in EvaluationSource:
        name = f"weight_{source.value}"
        setattr(Form, name, DecimalTextField(
            _l("%(source)s（%%）", source=source.label), required_field=False, places=2,
            minimum=0, maximum=100, render_kw=MONEY_INPUT))
        if source.value in weights:
            data[name] = percent_number(weights[source.value])
    for grade in BANDS:
        name = f"band_{grade.value}"
        setattr(Form, name, DecimalTextField(
            _l("%(grade)s最低分", grade=grade.label), places=2, minimum=0, maximum=100,
            render_kw=MONEY_INPUT))
        if grade.value in bands:
            data[name] = Decimal(str(bands[grade.value]))
    form = Form(data=data)  # on a POST the posted values win
    form.weight_fields = [(s, form[f"weight_{s.value}"]) for s in EvaluationSource]
    form.band_fields = [(g, form[f"band_{g.value}"]) for g in BANDS]
    return form


# --- signing and the cooperation's actions -------------------------------------------------


class SignForm(FlaskForm):
    """Signs the version on screen: the hash shown travels with the click, and the service
    refuses it if the agreement changed in between."""

    shown_hash = HiddenField(validators=[required("版本校验码")])
    submit = SubmitField(_l("签署本版本"))


class TerminateForm(FlaskForm):
    reason = TextAreaField(_l("终止原因"), filters=[trim],
                           validators=[required("终止原因"), max_length(2000)],
                           render_kw={"rows": 2})
    submit = SubmitField(_l("终止合作"))
