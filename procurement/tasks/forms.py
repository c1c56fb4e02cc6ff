"""Forms of the grid-case pages: the list's filters, reporting a case, and one small form per
step. They read and shape the input; who may take a step, and when, is the services' rule."""
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from procurement.core.forms import (CountField, SearchForm, SelectField, TextField,
                                    enum_choices, max_length, required, trim)
from procurement.tasks.states import CaseCategory, CaseState, Urgency


class CaseFilterForm(SearchForm):
    state = SelectField(_l("状态"), validators=[Optional()])
    urgency = SelectField(_l("紧急程度"), validators=[Optional()])
    overdue = BooleanField(_l("只看已超时"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.state.choices = [("", _l("全部状态")), *enum_choices(CaseState)]
        self.urgency.choices = [("", _l("全部")), *enum_choices(Urgency)]


class ReportForm(FlaskForm):
    grid = SelectField(_l("网格"), coerce=int,
                       validators=[DataRequired(message="请选择网格。")])
    category = SelectField(_l("事件类别"), validators=[DataRequired(message="请选择事件类别。")])
    urgency = SelectField(_l("紧急程度"), default=Urgency.NORMAL.value,
                          validators=[DataRequired(message="请选择紧急程度。")])
    title = TextField(_l("事件标题"), validators=[required("事件标题"), max_length(200)])
    description = TextAreaField(_l("事件描述"), filters=[trim],
                                validators=[required("事件描述"), max_length(5000)],
                                render_kw={"rows": 4})
    location = TextField(_l("发生地点"), validators=[Optional(), max_length(200)])
    submit = SubmitField(_l("上报"))

    def __init__(self, *args, grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grid.choices = [(0, "—— 请选择 ——"), *grids]
        self.category.choices = [("", "—— 请选择 ——"), *enum_choices(CaseCategory)]
        # Each choice names its time limit, read from the settings.
        hours = current_app.config["GRID_CASE_HOURS"]
        self.urgency.choices = [(u.value, _("%(label)s（%(hours)s 小时内办结）", label=u.label,
                                            hours=hours[u.value])) for u in Urgency]


def _text_area(label, name: str, limit: int = 5000, rows: int = 3):
    return TextAreaField(label, filters=[trim], validators=[required(name), max_length(limit)],
                         render_kw={"rows": rows})


class CancelForm(FlaskForm):
    reason = _text_area(_l("撤销原因"), "撤销原因", 2000, 2)


class HandleForm(FlaskForm):
    result = _text_area(_l("处置结果"), "处置结果")


class EscalateForm(FlaskForm):
    department = TextField(_l("承办部门"), validators=[required("承办部门"), max_length(100)],
                           description=_l("例如：街道安监站、城建办、综治办。"))


class DepartmentResultForm(FlaskForm):
    result = _text_area(_l("部门处置结果"), "部门处置结果")


class FeedbackForm(FlaskForm):
    feedback = _text_area(_l("反馈内容"), "反馈内容")


class RateForm(FlaskForm):
    rating = CountField(_l("评分（1–5 分）"), minimum=1, maximum=5)
    comment = TextAreaField(_l("评价意见"), filters=[trim], validators=[Optional(), max_length(500)],
                            render_kw={"rows": 2})
