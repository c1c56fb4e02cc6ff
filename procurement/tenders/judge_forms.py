"""Forms of the committee side: declarations of ties, score sheets, corrections and the
chair's decisions. Ranges and places are checked here for a clear message on the field;
the services check them again, so a rule holds however it is reached."""
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from procurement.core.forms import (CountField, DecimalTextField, SelectField, max_length, required,
                                    trim)
from procurement.core.numbers import plain
from procurement.tenders.states import CorrectionReason, CriterionKind

PLEASE_CHOOSE = _l("—— 请选择 ——")


class DeclarationForm(FlaskForm):
    """One judge's statement about one bidder (实施条例 9); one form per bid on the page."""

    has_tie = SelectField(_l("与该投标人是否存在利害关系"),
                          choices=[("", PLEASE_CHOOSE), ("no", _l("不存在利害关系")),
                                   ("yes", _l("存在利害关系，申请回避"))],
                          validators=[DataRequired(message="请选择是否存在利害关系。")])
    description = TextAreaField(_l("关系说明"), filters=[trim],
                                validators=[Optional(), max_length(500)],
                                description=_l("存在利害关系时必填，例如近三年曾在该机构任职、"
                                               "担任其董事或监事、与其法定代表人有近亲属关系等。"),
                                render_kw={"rows": 2})
    submit = SubmitField(_l("提交声明"))

    @property
    def tie(self) -> bool:
        return self.has_tie.data == "yes"


class ScoreSheetForm(FlaskForm):
    """A judge's scores for one bid: one field per non-price criterion, added by
    `score_sheet_form`. The price score is computed by the formula and has no field, so a
    posted price value is never read."""

    save = SubmitField(_l("保存草稿"))
    submit = SubmitField(_l("提交"))

    criteria: list = []

    def score_fields(self):
        return [(criterion, self[f"c{criterion.id}"]) for criterion in self.criteria]

    def values(self) -> dict[int, Decimal]:
        return {criterion.id: field.data for criterion, field in self.score_fields()}

    @property
    def submitting(self) -> bool:
        return bool(self.submit.data)


def scored_criteria(tender) -> list:
    return [c for c in tender.criteria if c.kind is not CriterionKind.PRICE]


def score_sheet_form(tender, **kwargs) -> ScoreSheetForm:
    class Form(ScoreSheetForm):
        pass

    criteria = scored_criteria(tender)
    for criterion in criteria:
        setattr(Form, f"c{criterion.id}", DecimalTextField(
            criterion.name, places=2, minimum=Decimal(0), maximum=plain(criterion.max_score),
            description=_l("0 至 %(max)s 分，最多两位小数", max=f"{plain(criterion.max_score)}"),
            render_kw={"inputmode": "decimal", "autocomplete": "off"}))
    form = Form(**kwargs)
    form.criteria = criteria
    return form


def sheet_data(sheet) -> dict:
    """The saved values of a sheet as form data."""
    if sheet is None:
        return {}
    return {f"c{score.criterion_id}": score.value for score in sheet.scores}


class CorrectionForm(FlaskForm):
    """87号令 64: a submitted score changes only for one of the allowed reasons."""

    criterion = SelectField(_l("评分因素"), coerce=int,
                            validators=[DataRequired(message="请选择要更正的评分因素。")])
    value = DecimalTextField(_l("更正后的分值"), places=2, minimum=Decimal(0),
                             render_kw={"inputmode": "decimal", "autocomplete": "off"})
    reason = SelectField(_l("更正事由"),
                         choices=[("", PLEASE_CHOOSE), *[(r.value, r.label) for r in CorrectionReason]],
                         validators=[DataRequired(message="请选择更正事由。")],
                         description=_l("只能因分值汇总计算错误、分项评分超出分值范围或客观评分不一致"
                                        "而更正（87号令第六十四条）。"))
    note = TextAreaField(_l("具体说明"), filters=[trim],
                         validators=[required("具体说明"), max_length(500)], render_kw={"rows": 2})
    submit = SubmitField(_l("提交更正"))

    def __init__(self, *args, criteria=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.criterion.choices = [(0, PLEASE_CHOOSE),
                                  *[(c.id, f"{c.name}（{c.kind.label}，满分 {plain(c.max_score)}）")
                                    for c in criteria]]


class LowPriceDecisionForm(FlaskForm):
    """The committee's decision on an abnormally low price (87号令 60)."""

    decision = SelectField(_l("认定结果"),
                           choices=[("", PLEASE_CHOOSE), ("accept", _l("接受说明，可参与排序")),
                                    ("reject", _l("不接受说明，按无效投标处理"))],
                           validators=[DataRequired(message="请选择认定结果。")])
    note = TextAreaField(_l("认定理由"), filters=[trim],
                         validators=[required("认定理由"), max_length(2000)], render_kw={"rows": 2})
    submit = SubmitField(_l("记录认定"))

    @property
    def accept(self) -> bool:
        return self.decision.data == "accept"


class CloseRoundForm(FlaskForm):
    round_number = HiddenField()
    shortlist = CountField(_l("进入下一轮的投标人数量"), validators=[Optional()], maximum=1000,
                           description=_l("留空表示本轮排序即为最终结果；填写数量则排名靠前的"
                                          "投标人进入下一轮重新评分。"))
    submit = SubmitField(_l("结束本轮"))


class ReportForm(FlaskForm):
    text = TextAreaField(_l("评审意见"), filters=[trim],
                         validators=[required("评审意见"), max_length(10000)],
                         description=_l("评标报告的评审意见：评审过程、推荐的中标候选人排序及理由、"
                                        "需要说明的其他事项。"),
                         render_kw={"rows": 8})
    submit = SubmitField(_l("提交评标报告"))
