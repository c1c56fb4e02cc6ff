"""Forms of the team pages: adding a member and recording that one left. They read and shape
the input; who may keep the team, which grid a role needs and which dates fit the agreement
are the service's rules (procurement/tasks/team.py)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional, Regexp

from procurement.core.forms import (LocalDateField, SelectField, TextField, enum_choices,
                                    max_length, required, trim)
from procurement.tasks.states import TeamRole

PLEASE_CHOOSE = "—— 请选择 ——"


class MemberForm(FlaskForm):
    community = SelectField(_l("社区"), coerce=int,
                            validators=[DataRequired(message="请选择社区。")])
    role = SelectField(_l("岗位"), validators=[DataRequired(message="请选择岗位。")])
    grid = SelectField(_l("负责网格"), coerce=int, default=0, validators=[Optional()],
                       description=_l("网格督导和网格社工须选择所负责的网格；总督导和专业社工不选。"))
    name = TextField(_l("姓名"), validators=[required("姓名"), max_length(40)])
    phone = TextField(_l("联系电话"), validators=[
        Optional(), max_length(30),
        Regexp(r"^[0-9+\-() ]+$", message="联系电话只能包含数字、空格和 + - ( )。")])
    qualification = TextField(_l("职业资格"), validators=[Optional(), max_length(100)],
                              description=_l("例如：社会工作师、助理社会工作师。"))
    start_date = LocalDateField(_l("到岗日期"))
    submit = SubmitField(_l("添加成员"))

    def __init__(self, *args, communities=(), grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community.choices = [(0, PLEASE_CHOOSE), *communities]
        self.role.choices = [("", PLEASE_CHOOSE), *enum_choices(TeamRole)]
        self.grid.choices = [(0, "—— 不适用 ——"), *grids]


class EndForm(FlaskForm):
    member = SelectField(_l("成员"), coerce=int, validators=[DataRequired(message="请选择成员。")])
    end_date = LocalDateField(_l("离岗日期"))
    reason = TextAreaField(_l("离岗原因"), filters=[trim],
                           validators=[required("离岗原因"), max_length(500)],
                           render_kw={"rows": 2})
    submit = SubmitField(_l("登记离岗"))

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.member.choices = [(0, PLEASE_CHOOSE), *members]
