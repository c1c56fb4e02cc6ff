from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import Optional

from procurement.core.forms import SelectField, SearchForm, TextField, max_length

OBJECT_TYPES = [("", _l("全部对象")), ("users", _l("用户")), ("organisations", _l("组织")),
                ("communities", _l("社区")), ("grids", _l("网格"))]


class AuditFilterForm(SearchForm):
    actor = TextField(_l("操作人"), validators=[Optional(), max_length(40)])
    action = TextField(_l("操作"), validators=[Optional(), max_length(60)])
    object_type = SelectField(_l("对象类型"), choices=OBJECT_TYPES, validators=[Optional()])
    object_id = TextField(_l("对象编号"), validators=[Optional(), max_length(40)])
    date_from = DateField(_l("起始日期"), validators=[Optional()],
                          render_kw={"type": "date"})
    date_to = DateField(_l("截止日期"), validators=[Optional()], render_kw={"type": "date"})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            self.date_to.errors = [*self.date_to.errors, "截止日期不能早于起始日期。"]
            return False
        return ok
