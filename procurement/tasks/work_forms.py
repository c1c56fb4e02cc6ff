"""Forms of the task-list pages: editing one task's target. Whether the target is
measurable, and whether the list may still change, is the task list's rule."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from procurement.core.forms import (CountField, SelectField, TextField, enum_choices,
                                    max_length, required, trim)
from procurement.tasks.states import Frequency, Measure, Population


class TaskForm(FlaskForm):
    title = TextField(_l("任务名称"), validators=[required("任务名称"), max_length(100)])
    description = TextAreaField(_l("服务内容"), filters=[trim], render_kw={"rows": 3},
                                validators=[Optional(), max_length(2000)])
    measure = SelectField(_l("计算方式"), validators=[DataRequired(message="请选择计算方式。")])
    frequency = SelectField(_l("周期"), validators=[DataRequired(message="请选择周期。")])
    population = SelectField(_l("对照台账"), validators=[Optional()],
                             description=_l("全覆盖和按周递进的目标按哪本台账计算。"))
    quantity = CountField(_l("数量"), validators=[Optional()],
                          description=_l("次数目标：每个周期的次数；按周递进：每周的百分比；比例目标：百分比。"))
    within_months = CountField(_l("期限（月）"), validators=[Optional()],
                               description=_l("“限期内一次”：协议开始后的前几个月。"))
    per_grid = BooleanField(_l("按网格计（每个网格都要达到）"))
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.measure.choices = enum_choices(Measure)
        self.frequency.choices = enum_choices(Frequency)
        self.population.choices = [("", _l("不对照台账")), *enum_choices(Population)]
