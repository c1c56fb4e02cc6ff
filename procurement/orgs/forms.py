from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField
from wtforms.validators import DataRequired, Optional

from procurement.core.forms import SelectField, CountField, SearchForm, TextField, max_length, required
from procurement.orgs.models import ORG_KIND_LABELS, OrgKind

CREATABLE_KINDS = [k for k in OrgKind if k is not OrgKind.RESIDENTS_COMMITTEE]


class OrganisationForm(FlaskForm):
    kind = SelectField(_l("组织类型"), choices=[(k.value, ORG_KIND_LABELS[k]) for k in CREATABLE_KINDS],
                       validators=[DataRequired(message="请选择组织类型。")])
    name = TextField(_l("名称"), validators=[required("名称"), max_length(100)])
    short_name = TextField(_l("简称"), validators=[Optional(), max_length(40)])
    credit_code = TextField(_l("统一社会信用代码"), validators=[Optional(), max_length(18)])
    region = TextField(_l("所在地"), validators=[Optional(), max_length(40)])
    address = TextField(_l("地址"), validators=[Optional(), max_length(200)])
    contact_person = TextField(_l("联系人"), validators=[Optional(), max_length(40)])
    contact_phone = TextField(_l("联系电话"), validators=[Optional(), max_length(30)])
    submit = SubmitField(_l("保存"))


class CommunityForm(FlaskForm):
    street_office_id = SelectField(_l("所属街道办事处"), coerce=int,
                                   validators=[DataRequired(message="请选择街道办事处。")])
    name = TextField(_l("社区名称"), validators=[required("社区名称"), max_length(60)])
    households = CountField(_l("户数"))
    population = CountField(_l("人口数"))
    grid_count = CountField(_l("网格数"), minimum=1, maximum=50, default=5)
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, street_offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.street_office_id.choices = [(0, "—— 请选择 ——"), *street_offices]


class OrganisationFilterForm(SearchForm):
    kind = SelectField(_l("类型"), choices=[("", _l("全部类型"))] +
                       [(k.value, ORG_KIND_LABELS[k]) for k in OrgKind], validators=[Optional()])
