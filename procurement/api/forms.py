"""The profile page's token form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SubmitField

from procurement.core.forms import TextField, max_length, required


class TokenForm(FlaskForm):
    name = TextField(_l("令牌名称"), validators=[required("令牌名称"), max_length(60)],
                     description=_l("例如：数据同步脚本"))
    submit = SubmitField(_l("创建令牌"))
