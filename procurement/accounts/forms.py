from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from procurement.accounts.roles import Role
from procurement.core.forms import SelectField, MultiCheckboxField, SearchForm, TextField, max_length, required


class LoginForm(FlaskForm):
    username = TextField(_l("用户名"), validators=[required("用户名"), max_length(40)])
    password = PasswordField(_l("密码"), validators=[DataRequired(message="请填写密码。"),
                                                    Length(max=128)])
    submit = SubmitField(_l("登录"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"),
                                     validators=[DataRequired(message="请填写当前密码。")])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(message="请填写新密码。")])
    confirm = PasswordField(_l("再次输入新密码"), validators=[
        DataRequired(message="请再次输入新密码。"),
        EqualTo("new_password", message="两次输入的新密码不一致。"),
    ])
    submit = SubmitField(_l("修改密码"))


def role_choices():
    return [(r.value, r.label) for r in Role]


class UserForm(FlaskForm):
    username = TextField(_l("用户名"), validators=[required("用户名"), max_length(40)],
                         description=_l("登录用，以字母开头，小写字母、数字、点、下划线"))
    name = TextField(_l("姓名"), validators=[required("姓名"), max_length(40)])
    org_id = SelectField(_l("所属组织"), coerce=int,
                         validators=[DataRequired(message="请选择所属组织。")])
    roles = MultiCheckboxField(_l("角色"), choices=[],
                               validators=[DataRequired(message="请至少选择一个角色。")])
    title = TextField(_l("职务"), validators=[Optional(), max_length(40)])
    phone = TextField(_l("联系电话"), validators=[Optional(), max_length(30)])
    email = TextField(_l("电子邮箱"), validators=[
        Optional(), max_length(120), Email(message="电子邮箱格式不正确。", check_deliverability=False)])
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, org_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.org_id.choices = [(0, "—— 请选择 ——"), *org_choices]
        self.roles.choices = role_choices()


class UserFilterForm(SearchForm):
    role = SelectField(_l("角色"), choices=[], validators=[Optional()])
    status = SelectField(_l("状态"), choices=[("", _l("全部")), ("active", _l("启用")),
                                              ("inactive", _l("停用")), ("locked", _l("锁定"))],
                         validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [("", _l("全部角色")), *role_choices()]


class ConfirmForm(FlaskForm):
    """A bare POST form: the CSRF token is the point (deactivate, reset, sign out)."""

    confirm = BooleanField(default=True)
    submit = SubmitField(_l("确定"))
