"""Forms of the progress-record pages. A record's form holds only the fields its kind uses
(records.FIELDS); what is required, and for whom, is the service's rule."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Optional

from procurement.core.forms import (CountField, LocalDateField, MultiCheckboxField,
                                    SearchForm, SelectField, TextField, enum_choices,
                                    max_length, required, trim)
from procurement.tasks.records import BATCH_KINDS, uses
from procurement.tasks.states import COMMUNITY_RECORDS, RecordKind

PICK = "—— 请选择 ——"


class _GetForm(FlaskForm):
    """Choosing what to enter changes nothing: a GET form without a CSRF token."""

    class Meta:
        csrf = False


class RecordFilterForm(SearchForm):
    community = SelectField(_l("社区"), validators=[Optional()])
    grid = SelectField(_l("网格"), validators=[Optional()])
    kind = SelectField(_l("类型"), validators=[Optional()])
    start = LocalDateField(_l("日期从"), required_field=False)
    end = LocalDateField(_l("日期至"), required_field=False)
    everything = SelectField(_l("记录范围"), validators=[Optional()],
                             choices=[("", _l("仅有效记录")), ("1", _l("含已更正/作废"))])

    def __init__(self, *args, communities=(), grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community.choices = [("", _l("全部社区")), *communities]
        self.grid.choices = [("", _l("全部网格")), *grids]
        self.kind.choices = [("", _l("全部类型")), *enum_choices(RecordKind)]


class ChooseForm(_GetForm):
    """Step one of a new record: the community and the kind decide the form."""
    community = SelectField(_l("社区"), validators=[DataRequired(message="请选择社区。")])
    kind = SelectField(_l("记录类型"), validators=[DataRequired(message="请选择记录类型。")])

    def __init__(self, *args, communities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.community.choices = [("", PICK), *communities]
        self.kind.choices = [("", PICK), *enum_choices(RecordKind)]


def _area(label, limit: int, rows: int = 3, description=None):
    return TextAreaField(label, filters=[trim], validators=[Optional(), max_length(limit)],
                         render_kw={"rows": rows}, description=description)


def record_form(kind: RecordKind, *, grids, households=None, premises=None,
                correction: bool = False, **kwargs) -> FlaskForm:
    """The form for one kind of record. `households` / `premises` are select choices, or
    None for a big register, where the address or name is typed instead."""
    kind = RecordKind(kind)
    fields = {"day": LocalDateField(_l("日期"))}
    if uses(kind, "grid"):
        fields["grid"] = SelectField(_l("网格"), validators=[Optional()])
    if uses(kind, "household"):
        label = _l("住户") if kind is not RecordKind.HOME_HANDLING else _l("住户（选填）")
        fields["household"] = (
            SelectField(label, validators=[Optional()]) if households is not None else
            TextField(label, validators=[Optional(), max_length(120)],
                      description=_l("按台账填写住户地址，例如 3栋2单元201。")))
    if uses(kind, "premises"):
        fields["premises"] = (
            SelectField(_l("被检查单位"), validators=[Optional()]) if premises is not None else
            TextField(_l("被检查单位"), validators=[Optional(), max_length(100)],
                      description=_l("按台账填写企业或店铺名称。")))
    if uses(kind, "title"):
        fields["title"] = TextField(_l("主题"), validators=[Optional(), max_length(200)])
    if uses(kind, "participants"):
        fields["participants"] = CountField(_l("参加人数"), validators=[Optional()],
                                            maximum=1_000_000)
    if uses(kind, "hazards"):
        fields["hazards"] = CountField(_l("发现隐患数"), validators=[Optional()], default=0,
                                       maximum=1_000_000)
    if uses(kind, "findings"):
        fields["findings"] = _area(_l("发现的问题及处理要求"), 5000)
    if uses(kind, "minutes"):
        fields["minutes"] = _area(_l("会议纪要"), 20000, rows=6)
    if uses(kind, "resolved"):
        fields["resolved"] = SelectField(_l("是否办结"), choices=[
            ("", PICK), ("yes", _l("已办结")), ("no", _l("未办结"))], validators=[Optional()])
    fields["notes"] = _area(_l("备注"), 5000, rows=2)
    if correction:
        fields["reason"] = TextAreaField(_l("更正原因"), filters=[trim],
                                         validators=[required("更正原因"), max_length(500)],
                                         render_kw={"rows": 2})
    form = type("RecordForm", (FlaskForm,), fields)(**kwargs)
    if "grid" in fields:
        empty = _l("（全社区）") if kind in COMMUNITY_RECORDS else PICK
        form.grid.choices = [("", empty), *grids]
    if households is not None and "household" in fields:
        form.household.choices = [("", PICK if kind is not RecordKind.HOME_HANDLING
                                   else _l("（不针对某一住户）")), *households]
    if premises is not None and "premises" in fields:
        form.premises.choices = [("", PICK), *premises]
    return form


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("作废原因"), filters=[trim],
                           validators=[required("作废原因"), max_length(500)],
                           render_kw={"rows": 2})


class BatchChooseForm(_GetForm):
    """Step one of a batch: the grid and the kind decide the checklist."""
    grid = SelectField(_l("网格"), validators=[DataRequired(message="请选择网格。")])
    kind = SelectField(_l("记录类型"), validators=[DataRequired(message="请选择记录类型。")])

    def __init__(self, *args, grids=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.grid.choices = [("", PICK), *grids]
        self.kind.choices = [("", PICK), *((k.value, k.label) for k in BATCH_KINDS)]


class BatchForm(FlaskForm):
    day = LocalDateField(_l("日期"))
    items = MultiCheckboxField(_l("完成的对象"), coerce=int)
    notes = _area(_l("备注（每条记录相同）"), 5000, rows=2)
    submit = SubmitField(_l("保存"))

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.items.choices = list(items)
