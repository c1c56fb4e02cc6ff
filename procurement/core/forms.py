"""Form pieces shared by every domain: Chinese messages, trimmed text, safe integers."""
import unicodedata

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
import wtforms
from wtforms import IntegerField, StringField, widgets
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

INVALID_CHOICE = "选项无效，请从列表中选择。"


class _ChineseChoiceErrors:
    """WTForms' own choice errors are English (and echo the posted value)."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(INVALID_CHOICE) from None

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(INVALID_CHOICE) from None


class SelectField(_ChineseChoiceErrors, wtforms.SelectField):
    pass


class SelectMultipleField(_ChineseChoiceErrors, wtforms.SelectMultipleField):
    pass


def strip_text(value):
    """Trim and fold full-width characters (ＡＢＣ１２３ → ABC123) in free-text fields."""
    if isinstance(value, str):
        return unicodedata.normalize("NFKC", value).strip()
    return value


def required(label: str):
    return DataRequired(message=f"请填写{label}。")


def max_length(n: int):
    return Length(max=n, message=f"不能超过 {n} 个字符。")


class TextField(StringField):
    """A StringField that trims and folds full-width characters."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("filters", [strip_text])
        super().__init__(*args, **kwargs)


class CountField(IntegerField):
    """A non-negative whole number; full-width digits accepted, anything else refused clearly."""

    def __init__(self, label=None, validators=None, minimum=0, maximum=10_000_000, **kwargs):
        validators = list(validators or [InputRequired(message=f"请填写{label}。")])
        validators.append(NumberRange(min=minimum, max=maximum,
                                      message=f"应为 {minimum} 到 {maximum} 之间的整数。"))
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = unicodedata.normalize("NFKC", valuelist[0]).strip().replace(",", "")
        if text == "":
            self.data = None
            return
        if not text.isdigit() or len(text) > 12:
            self.data = None
            raise ValueError("请填写整数（不能有小数、负号或文字）。")
        self.data = int(text)

    def pre_validate(self, form):
        # An unreadable number already has its message; the range check would only add a
        # second, confusing one.
        if self.process_errors:
            raise StopValidation()


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class SearchForm(FlaskForm):
    """GET filter forms carry no CSRF token: they change nothing."""

    class Meta:
        csrf = False

    q = TextField(_l("关键词"), validators=[Optional(), max_length(60)])


def show_domain_error(form, exc, default_field: str | None = None) -> None:
    """Put a service's DomainError on the field it names, else flash it above the form."""
    field = form._fields.get(exc.field or "") or form._fields.get(default_field or "")
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "danger")
