"""Forms of the satisfaction survey: the street office's new survey, the resident's answers."""
import wtforms
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Optional, StopValidation

from procurement.core.forms import (CountField, LocalDateTimeField, SelectField,
                                    _ChineseChoiceErrors, max_length, trim)
from procurement.evaluations.surveys import CHOICES, COMMENT_MAX, MAX_SIZE, QUESTIONS


class NewSurveyForm(FlaskForm):
    period = SelectField(_l("评估期间"), validators=[InputRequired(message="请选择评估期间。")])
    community = SelectField(_l("社区"), coerce=int,
                            validators=[InputRequired(message="请选择社区。")])
    size = CountField(_l("问卷份数（二维码个数）"), validators=[Optional()], minimum=1,
                      maximum=MAX_SIZE,
                      description=_l("留空则按社区户数推荐：不少于 30 份，且不少于户数的 1%。"))
    closes_at = LocalDateTimeField(_l("截止时间"))

    def __init__(self, periods, communities, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.period.choices = [("", "请选择")] + periods
        self.community.choices = [(0, "请选择")] + communities

    def validate_community(self, field):
        if not field.data:
            raise wtforms.validators.StopValidation("请选择社区。")


class ChoiceRadio(_ChineseChoiceErrors, wtforms.RadioField):
    """A 1..5 answer; anything else gets the Chinese choice error, not WTForms' English,
    and an unanswered question one message, not two."""

    def pre_validate(self, form):
        if not self.raw_data:
            raise StopValidation("请选择一项。")
        super().pre_validate(form)


def answer_form_class():
    """The resident's form: one radio group per question (named by its key, so a
    service refusal lands on the right question) and an optional comment."""
    choices = [(value, label) for value, label in CHOICES.items()]
    fields = {q.key: ChoiceRadio(q.text, choices=choices, coerce=int) for q in QUESTIONS}
    fields["comment"] = TextAreaField(_l("意见和建议（选填）"), filters=[trim],
                                      validators=[Optional(), max_length(COMMENT_MAX)])
    return type("AnswerForm", (FlaskForm,), fields)


AnswerForm = answer_form_class()
