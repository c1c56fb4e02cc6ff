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


def trim(value):
    """Trim prose without folding its full-width Chinese punctuation (，。：), unlike
    strip_text: for descriptions, reasons and proposals."""
    return value.strip() if isinstance(value, str) else value


def enum_choices(enum) -> list[tuple[str, str]]:
    """Select choices from an enum whose members have a Chinese `.label`."""
    return [(member.value, member.label) for member in enum]


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


class _ParsedField(StringField):
    """A text input parsed by `parse(text)`; an unreadable value gets one clear message."""

    def __init__(self, label=None, validators=None, required_field=True, **kwargs):
        self.required_field = required_field
        super().__init__(label, validators or [], **kwargs)

    def parse(self, text: str):
        raise NotImplementedError

    def process_formdata(self, valuelist):
        self.raw_text = (valuelist[0] if valuelist else "") or ""
        text = unicodedata.normalize("NFKC", self.raw_text).strip()
        if text == "":
            self.data = None
            return
        try:
            self.data = self.parse(text)
        except (ValueError, ArithmeticError) as exc:
            self.data = None
            raise ValueError(str(exc) or "格式不正确。") from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.format(self.data)

    def format(self, value) -> str:
        return str(value)

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        if self.data is None and self.required_field:
            raise StopValidation(f"请填写{self.label.text}。")


class MoneyField(_ParsedField):
    """An amount in yuan as typed (400000, ４０００００, 40万, 肆拾万元整); data is integer fen."""

    def parse(self, text):
        from procurement.core.money import MoneyError, parse_money, to_fen
        try:
            return to_fen(parse_money(text))
        except MoneyError as exc:
            raise ValueError(str(exc)) from None

    def format(self, value) -> str:
        from procurement.core.money import from_fen
        return f"{from_fen(value):.2f}"


class DecimalTextField(_ParsedField):
    """A decimal such as a score or a percentage; full-width digits accepted."""

    def __init__(self, label=None, validators=None, places=2, minimum=None, maximum=None,
                 **kwargs):
        self.places, self.minimum, self.maximum = places, minimum, maximum
        super().__init__(label, validators, **kwargs)

    def parse(self, text):
        from decimal import Decimal, InvalidOperation
        text = text.rstrip("%")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError("请填写数字。") from None
        if not value.is_finite() or len(text) > 20:
            raise ValueError("请填写数字。")
        if abs(value) >= 10 ** 9:
            raise ValueError("数值过大。")
        if value != value.quantize(Decimal(1).scaleb(-self.places)):
            raise ValueError(f"最多保留 {self.places} 位小数。")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"不能小于 {self.minimum}。")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"不能大于 {self.maximum}。")
        return value


class LocalDateTimeField(_ParsedField):
    """A date and time typed in Beijing time (YYYY-MM-DD HH:MM or the browser's
    datetime-local value); data is an aware UTC datetime."""

    widget = widgets.DateTimeLocalInput()

    def parse(self, text):
        from datetime import datetime

        from procurement.core.calendar import local_to_utc
        for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
            try:
                value = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
        else:
            raise ValueError("请按“年-月-日 时:分”填写，例如 2026-12-01 09:30。")
        if not 2000 <= value.year <= 2100:
            raise ValueError("年份应在 2000 至 2100 之间。")
        return local_to_utc(value)

    def format(self, value) -> str:
        from procurement.core.calendar import to_local
        return to_local(value).strftime("%Y-%m-%dT%H:%M")


class LocalDateField(_ParsedField):
    """A calendar date (YYYY-MM-DD)."""

    widget = widgets.DateInput()

    def parse(self, text):
        from datetime import date
        try:
            value = date.fromisoformat(text.replace("/", "-"))
        except ValueError:
            raise ValueError("请按“年-月-日”填写日期，例如 2026-12-01。") from None
        if not 2000 <= value.year <= 2100:
            raise ValueError("年份应在 2000 至 2100 之间。")
        return value

    def format(self, value) -> str:
        return value.isoformat()


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
