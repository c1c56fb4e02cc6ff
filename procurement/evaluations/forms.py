"""Forms of the evaluation overview. Whether a period may be finalised, and whether a
re-weighting reason is needed, is the service's rule (scoring.finalise)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField

from procurement.core.forms import max_length, trim


class FinaliseForm(FlaskForm):
    """One per period and community on the page: give it a prefix so their fields differ."""

    reweight_reason = TextAreaField(
        _l("重新分配权重的理由"), filters=[trim], validators=[max_length(2000)],
        render_kw={"rows": 2},
        description=_l("各来源评分齐全时不必填写；缺少来源时须写明理由，系统按现有来源的权重比例重新分配。"))
