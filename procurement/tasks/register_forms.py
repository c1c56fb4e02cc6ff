"""Forms of the register pages: the lists' filters and the import upload. What a row may
hold is the import service's rule (procurement/tasks/registers.py)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SubmitField
from wtforms.validators import Optional, ValidationError

from procurement.core.forms import SearchForm, SelectField, enum_choices
from procurement.tasks.states import PremisesKind

STATUS_CHOICES = [("active", _l("在册")), ("inactive", _l("已移出")), ("all", _l("全部"))]


class _RegisterFilter(SearchForm):
    grid = SelectField(_l("网格"), validators=[Optional()])
    status = SelectField(_l("状态"), default="active", validators=[Optional()])

    def __init__(self, *args, grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grid.choices = [("", _l("全部网格")), *((str(g.id), g.name) for g in grids)]
        self.status.choices = STATUS_CHOICES


class HouseholdFilterForm(_RegisterFilter):
    vulnerable = BooleanField(_l("只看重点户"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.q.label.text = _l("地址或户主")


class PremisesFilterForm(_RegisterFilter):
    kind = SelectField(_l("类别"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("全部")), *enum_choices(PremisesKind)]
        self.q.label.text = _l("名称或地址")


class ImportForm(FlaskForm):
    file = FileField(_l("Excel 文件（.xlsx）"),
                     description=_l("请使用本页下载的模板填写，单个文件不超过 10 MB、2 万行。"))
    submit = SubmitField(_l("导入"))

    def validate_file(self, field):
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError("请选择要导入的 Excel 文件。")
