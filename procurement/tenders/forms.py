"""Forms of the street office's tender pages. They parse and check the shape of the input;
the rules (weights, deadlines, committee make-up…) are the services' to enforce."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, FieldList, Form, FormField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError

from procurement.core.forms import (CountField, DecimalTextField, LocalDateField,
                                    LocalDateTimeField, MoneyField, MultiCheckboxField, SearchForm,
                                    SelectField, SelectMultipleField, TextField, enum_choices,
                                    max_length, required, strip_text)
from procurement.core.numbers import HUNDRED, percent_number, plain
from procurement.tenders.rules import CriterionSpec
from procurement.tenders.states import (CriterionKind, ScoreCombination, TenderMethod,
                                        TenderState, TieBreak)

CRITERION_ROWS = 8
# What a new tender starts with: the usual service-tender table (price weight 30%).
DEFAULT_CRITERIA = [
    CriterionSpec("服务方案", CriterionKind.SUBJECTIVE, Decimal(40), Decimal("0.40")),
    CriterionSpec("团队配置", CriterionKind.OBJECTIVE, Decimal(20), Decimal("0.20")),
    CriterionSpec("同类项目经验", CriterionKind.OBJECTIVE, Decimal(10), Decimal("0.10")),
    CriterionSpec("投标报价", CriterionKind.PRICE, Decimal(100), Decimal("0.30")),
]


# --- the list --------------------------------------------------------------------------


class TenderFilterForm(SearchForm):
    state = SelectField(_l("状态"), validators=[Optional()])
    method = SelectField(_l("采购方式"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [("", _l("全部状态")), *enum_choices(TenderState)]
        self.method.choices = [("", _l("全部方式")), *enum_choices(TenderMethod)]


# --- the tender itself -----------------------------------------------------------------


class CriterionForm(Form):
    """One row of the scoring table. A row left entirely blank is ignored."""

    name = TextField(_l("评分因素"), validators=[Optional(), max_length(100)])
    kind = SelectField(_l("类型"), default=CriterionKind.SUBJECTIVE.value)
    max_score = DecimalTextField(_l("满分"), required_field=False, places=2, minimum=0,
                                 maximum=1000)
    weight = DecimalTextField(_l("权重（%）"), required_field=False, places=2, minimum=0,
                              maximum=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(CriterionKind)

    @property
    def blank(self) -> bool:
        return not self.name.data and self.max_score.data is None and self.weight.data is None

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.blank:
            return True
        ok = True
        if not self.name.data:
            self.name.errors.append("请填写评分因素名称，或清空这一行。")
            ok = False
        if self.max_score.data is None:
            self.max_score.errors.append("请填写满分。")
            ok = False
        if self.weight.data is None:
            self.weight.errors.append("请填写权重。")
            ok = False
        return ok

    def spec(self) -> CriterionSpec:
        return CriterionSpec(self.name.data, CriterionKind(self.kind.data), self.max_score.data,
                             self.weight.data / HUNDRED)


class TenderForm(FlaskForm):
    title = TextField(_l("项目名称"), validators=[required("项目名称"), max_length(200)])
    description = TextAreaField(_l("项目概况"), filters=[strip_text],
                                validators=[Optional(), max_length(5000)],
                                render_kw={"rows": 4})
    method = SelectField(_l("采购方式"), default=TenderMethod.INVITED.value,
                         description=_l("邀请招标须邀请不少于 3 家机构（政府采购法第三十四条）；"
                                        "竞争性磋商的价格分权重须在 10% 至 30% 之间。"))
    communities = MultiCheckboxField(_l("服务社区"), coerce=int,
                                     validators=[DataRequired(message="请选择本项目服务的社区。")])
    budget = MoneyField(_l("采购预算（元）"),
                        description=_l("可填写 800000、800,000.00、80万 或全角数字。"))
    ceiling = MoneyField(_l("最高限价（元，可不填）"), required_field=False,
                         description=_l("不得超过预算；超过预算或最高限价的投标无效（87号令第十二条、第六十三条）。"
                                        "不得设定最低限价。"))
    deposit = MoneyField(_l("投标保证金（元，可不填）"), required_field=False,
                         description=_l("不得超过预算的 2%（实施条例第三十三条）。"))
    documents_until = LocalDateField(
        _l("招标文件提供截止日"),
        description=_l("自发布之日起不少于 5 个工作日（87号令第十六条、第十八条）。"))
    bid_deadline = LocalDateTimeField(
        _l("投标截止及开标时间（北京时间）"),
        description=_l("开标与投标截止在同一时间进行（87号令第三十九条），系统把开标时间设为此刻。"
                       "自招标文件发出之日起至投标截止不得少于 20 日（政府采购法第三十五条），"
                       "发布时按发布当天重新核对。"))
    large_impact = BooleanField(
        _l("技术复杂或社会影响较大（评标委员会不少于 7 人）"),
        description=_l("预算 1000 万元以上的项目自动按 7 人以上组建（87号令第四十七条）。"))
    tie_break = SelectField(_l("得分与报价均相同时"), default=TieBreak.TECHNICAL.value)
    score_combination = SelectField(_l("评委分数汇总方式"), default=ScoreCombination.MEAN.value)
    low_price_ratio = DecimalTextField(
        _l("异常低价比例"), default=Decimal("0.80"), places=2, minimum=Decimal("0.01"),
        maximum=Decimal("0.99"),
        description=_l("报价低于其他有效投标平均价的此比例时，须书面说明其合理性（87号令第六十条），"
                       "默认 0.80。"))
    criteria = FieldList(FormField(CriterionForm), min_entries=CRITERION_ROWS,
                         max_entries=20)
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = enum_choices(TenderMethod)
        self.tie_break.choices = enum_choices(TieBreak)
        self.score_combination.choices = enum_choices(ScoreCombination)
        self.communities.choices = list(communities)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and not self.criterion_specs():
            self.criteria.errors = ["请至少填写一项评分因素，其中须有一项价格分。"]
            return False
        return ok

    def criterion_specs(self) -> list[CriterionSpec]:
        """The filled-in rows as specs; weights typed as percentages become fractions."""
        return [row.form.spec() for row in self.criteria if not row.form.blank]

    def service_fields(self, community_objects) -> dict:
        return dict(title=self.title.data, description=self.description.data or "",
                    method=TenderMethod(self.method.data), communities=community_objects,
                    budget_fen=self.budget.data, ceiling_fen=self.ceiling.data,
                    deposit_fen=self.deposit.data or 0,
                    documents_until=self.documents_until.data,
                    bid_deadline=self.bid_deadline.data, large_impact=self.large_impact.data,
                    tie_break=TieBreak(self.tie_break.data),
                    score_combination=ScoreCombination(self.score_combination.data),
                    low_price_ratio=self.low_price_ratio.data,
                    criteria=self.criterion_specs())


def criterion_rows(criteria) -> list[dict]:
    """Form data for the scoring table from specs or Criterion rows (weights as percent)."""
    return [{"name": c.name, "kind": CriterionKind(c.kind).value, "max_score": plain(c.max_score),
             "weight": percent_number(c.weight)} for c in criteria]


# --- actions on the tender page ------------------------------------------------------------


class DocumentForm(FlaskForm):
    files = FileField(_l("招标文件"), description=_l("PDF、Word、Excel、图片或 ZIP，单个不超过 10 MB。"))
    submit = SubmitField(_l("上传"))

    def validate_files(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError("请选择要上传的文件。")


class InviteForm(FlaskForm):
    agencies = SelectMultipleField(_l("邀请机构"), coerce=int,
                                   validators=[DataRequired(message="请至少选择一家机构。")],
                                   render_kw={"size": 8})
    submit = SubmitField(_l("加入邀请名单"))


class DrawForm(FlaskForm):
    pool = SelectMultipleField(_l("备选库"), coerce=int,
                               validators=[DataRequired(message="请选择备选库中的机构。")],
                               render_kw={"size": 8},
                               description=_l("备选库机构数量不少于抽取数量的两倍（87号令第十四条）。"))
    count = CountField(_l("抽取数量"), minimum=1, maximum=50)
    witnesses = SelectMultipleField(_l("见证人"), coerce=int,
                                    validators=[DataRequired(message="请选择见证人。")],
                                    render_kw={"size": 5},
                                    description=_l("本街道至少两名工作人员在场见证，操作人本人不能担任。"))
    submit = SubmitField(_l("随机抽取"))


class ClarifyForm(FlaskForm):
    content = TextAreaField(_l("澄清或修改内容"), filters=[strip_text],
                            validators=[required("澄清或修改内容"), max_length(10000)],
                            render_kw={"rows": 4})
    affects_bids = BooleanField(
        _l("可能影响投标文件编制"),
        description=_l("勾选后，如距投标截止不足 15 日，投标截止和开标时间顺延至第 15 日"
                       "（87号令第二十七条）。"))
    files = FileField(_l("附件（可不上传）"))
    submit = SubmitField(_l("发布澄清"))


class QualifyForm(FlaskForm):
    valid = SelectField(_l("资格审查结论"), choices=[("1", _l("合格")), ("0", _l("不合格（无效投标）"))],
                        validators=[InputRequired(message="请选择审查结论。")])
    reason = TextField(_l("不合格原因"), validators=[Optional(), max_length(500)])
    submit = SubmitField(_l("保存"))


class CommitteeForm(FlaskForm):
    judges = MultiCheckboxField(_l("评标委员会成员"), coerce=int,
                                validators=[DataRequired(message="请选择评标委员会成员。")])
    chair = SelectField(_l("组长"), coerce=int,
                        description=_l("组长由评审专家担任，采购人代表不得担任（87号令第四十五条）。"))
    submit = SubmitField(_l("组建评标委员会"))

    def validate_chair(self, field):
        if not field.data:
            raise ValidationError("请指定评标委员会组长。")


class ReplaceMemberForm(FlaskForm):
    member = SelectField(_l("被更换的成员"), coerce=int)
    judge = SelectField(_l("新成员"), coerce=int)
    reason = TextField(_l("更换原因"), validators=[required("更换原因"), max_length(500)],
                       description=_l("被更换成员已作出的评分作废（87号令第四十九条）。"))
    submit = SubmitField(_l("更换"))

    def validate_judge(self, field):
        if not field.data:
            raise ValidationError("请选择新成员。")


class AwardForm(FlaskForm):
    bid = SelectField(_l("中标人"), coerce=int)
    reason = TextAreaField(_l("理由（不选第一名时必填）"), filters=[strip_text],
                           validators=[Optional(), max_length(2000)], render_kw={"rows": 2})
    submit = SubmitField(_l("确定中标人并发布中标公告"))


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("答复内容"), filters=[strip_text],
                           validators=[required("答复内容"), max_length(10000)],
                           render_kw={"rows": 3})
    may_change_result = BooleanField(
        _l("质疑成立，可能影响中标结果"),
        description=_l("勾选后暂停签订合同，须依法处理（实施条例第五十四条）。"))
    submit = SubmitField(_l("答复"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("原因"), filters=[strip_text],
                           validators=[required("原因"), max_length(2000)], render_kw={"rows": 2})
    submit = SubmitField(_l("确定"))
