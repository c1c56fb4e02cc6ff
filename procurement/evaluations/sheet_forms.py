"""Forms of the score-sheet pages: filling in a sheet (one score input per indicator, made
for the indicator set at hand), the review of a self-assessment, an indicator set and the
mid-term or final evaluation. They read and shape the input; whether a score fits its
indicator, a sheet may be submitted or a set changed is the services' rule."""
import hashlib
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, HiddenField, MultipleFileField, StringField, \
    SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from procurement.contracts.states import EvaluationSource as Src
from procurement.core.forms import (LocalDateField, SelectField, TextField, max_length, trim)
from procurement.documents.storage import DOCUMENT_EXTENSIONS
from procurement.evaluations.plan import MAX_INDICATORS, IndicatorSpec
from procurement.evaluations.sheets import MAX_FILES
from procurement.evaluations.states import PeriodKind

ACCEPT = ",".join(f".{e}" for e in DOCUMENT_EXTENSIONS)
TEXT_LIMIT = 20000  # the service keeps at most this much of a narrative


def layout_of(indicators) -> str:
    """A fingerprint of the indicators a page was drawn with. Score inputs are numbered by
    position, so a set changed between showing the page and posting it must not receive
    scores meant for other indicators."""
    text = "\n".join(f"{i.dimension}\t{i.name}\t{Decimal(i.max_score).normalize():f}"
                     for i in indicators)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class FillForm(FlaskForm):
    """The fixed part of a sheet; `fill_form` adds one score input per indicator."""

    layout = HiddenField()
    narrative = TextAreaField(_l("评价意见"), filters=[trim], render_kw={"rows": 6},
                              validators=[Optional(), max_length(TEXT_LIMIT)])
    opinions = TextAreaField(_l("本季度收集的居民意见"), filters=[trim], render_kw={"rows": 4},
                             validators=[Optional(), max_length(TEXT_LIMIT)],
                             description=_l("走访、座谈和议事会上居民对社工服务的意见和建议。"))
    files = MultipleFileField(
        _l("上传佐证材料"), render_kw={"accept": ACCEPT},
        description=_l("可一次选择多个文件，每份自评最多 %(n)s 个；接受 PDF、Word、Excel、JPG、PNG、ZIP，"
                       "单个不超过 10 MB。文件随“保存草稿”或“提交”一并上传。", n=MAX_FILES))
    save = SubmitField(_l("保存草稿"))
    submit = SubmitField(_l("提交"))

    def score(self, position: int):
        return self[f"score_{position}"]

    def wants_submit(self) -> bool:
        return bool(self.submit.data)

    def drawn_for(self, indicators) -> bool:
        """Whether the posted scores were typed against these indicators."""
        return self.layout.data == layout_of(indicators)


def fill_form(indicators, source: Src, sheet=None) -> FillForm:
    """The form for one sheet: its indicators' score inputs, prefilled from a saved draft
    (pass no sheet for a POST: what was typed is read, nothing else)."""

    class SheetForm(FillForm):
        pass

    for position, indicator in enumerate(indicators):
        setattr(SheetForm, f"score_{position}", StringField(
            indicator.name, filters=[trim], validators=[Optional(), max_length(20)],
            render_kw={"inputmode": "decimal", "autocomplete": "off"}))
    data = {"layout": layout_of(indicators)}
    if sheet is not None:
        saved = {s.indicator_id: s.score for s in sheet.scores}
        for position, indicator in enumerate(indicators):
            if indicator.id in saved:
                data[f"score_{position}"] = f"{saved[indicator.id].normalize():f}"
        data["narrative"], data["opinions"] = sheet.narrative, sheet.opinions
    form = SheetForm(data=data)
    if source is Src.SELF:
        form.narrative.label.text = _l("自评报告")
        form.narrative.description = _l("本季度服务开展情况、成效、存在问题和改进措施。")
    return form


class AcceptForm(FlaskForm):
    comment = TextAreaField(_l("审核意见（可不填）"), filters=[trim], render_kw={"rows": 2},
                            validators=[Optional(), max_length(2000)])


class ReturnForm(FlaskForm):
    comment = TextAreaField(_l("退回意见"), filters=[trim], render_kw={"rows": 3},
                            validators=[Optional(), max_length(2000)],
                            description=_l("写明需要补充或修改的内容。"))


class IndicatorRow(Form):
    """One row of an indicator set; a row left wholly blank is ignored."""

    dimension = TextField(_l("维度"), validators=[Optional(), max_length(40)])
    name = TextField(_l("指标"), validators=[Optional(), max_length(200)])
    max_score = TextField(_l("满分"), validators=[Optional(), max_length(10)])
    guidance = StringField(_l("评分说明"), filters=[trim],
                           validators=[Optional(), max_length(1000)])

    def is_blank(self) -> bool:
        return not any((self.dimension.data, self.name.data, self.max_score.data,
                        self.guidance.data))


class IndicatorSetForm(FlaskForm):
    indicators = FieldList(FormField(IndicatorRow), min_entries=0)
    submit = SubmitField(_l("保存评估指标"))

    def specs(self) -> list[IndicatorSpec]:
        """The rows filled in, in order; the service checks each."""
        return [IndicatorSpec(row.form.dimension.data or "", row.form.name.data or "",
                              row.form.max_score.data or "", row.form.guidance.data or "")
                for row in self.indicators if not row.form.is_blank()]


def indicator_rows(indicators, spare: int = 10) -> list[dict]:
    """The current indicators as form rows, plus blank ones to add more (at most 40)."""
    rows = [{"dimension": i.dimension, "name": i.name, "max_score": f"{i.max_score.normalize():f}",
             "guidance": i.guidance} for i in indicators]
    return rows + [{}] * max(0, min(spare, MAX_INDICATORS - len(rows)))


class ReviewPeriodForm(FlaskForm):
    """The cooperation's mid-term or final evaluation (期中/期末评估)."""

    kind = SelectField(_l("评估类型"), validators=[DataRequired(message="请选择评估类型。")])
    start_date = LocalDateField(_l("评估期间开始"))
    end_date = LocalDateField(_l("评估期间结束"),
                              description=_l("应在本年度协议期限之内；机构自评在结束后按规定的工作日内提交。"))
    submit = SubmitField(_l("安排评估"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", "—— 请选择 ——")] + [
            (k.value, k.label) for k in (PeriodKind.MIDTERM, PeriodKind.FINAL)]
