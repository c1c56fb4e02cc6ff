"""Forms of the agency side of a tender: the bid, the low-price explanation, a challenge.

Free text is trimmed but not folded to half-width: a proposal's Chinese punctuation
(，。：) is the bidder's own text and stays as typed. Length limits follow the services.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import MultipleFileField, SubmitField, TextAreaField

from procurement.core.forms import MoneyField, max_length, required, trim
from procurement.documents.storage import DOCUMENT_EXTENSIONS
from procurement.tenders.bidding import MAX_FILES, MAX_PROPOSAL


ACCEPT = ",".join(f".{e}" for e in DOCUMENT_EXTENSIONS)


class BidForm(FlaskForm):
    """Submit, or replace before the deadline, the agency's sealed bid."""

    price = MoneyField(_l("投标报价（元）"),
                       description=_l("可填 400000、400,000.00、40万 或全角数字；不得超过预算"
                                      "（及最高限价），否则开标时按无效投标处理。"))
    proposal = TextAreaField(_l("技术方案（服务方案）概要"), filters=[trim],
                             validators=[required("技术方案（服务方案）概要"),
                                         max_length(MAX_PROPOSAL)],
                             render_kw={"rows": 10},
                             description=_l("详细方案请以附件上传。"))
    files = MultipleFileField(
        _l("附件"), render_kw={"accept": ACCEPT},
        description=_l("可一次选择多个文件，最多 %(n)s 个；接受 PDF、Word、Excel、JPG、PNG、ZIP。",
                       n=MAX_FILES))
    submit = SubmitField(_l("递交投标文件"))


class ExplainForm(FlaskForm):
    """The bidder's written explanation of an abnormally low price (87号令 60)."""

    explanation = TextAreaField(_l("书面说明"), filters=[trim],
                                validators=[required("书面说明"), max_length(5000)],
                                render_kw={"rows": 6},
                                description=_l("说明报价的构成及其合理性，必要时提交证明材料。"))
    submit = SubmitField(_l("提交说明"))


class ChallengeForm(FlaskForm):
    """A written challenge (质疑) to the result (政府采购法第五十二条)."""

    content = TextAreaField(_l("质疑事项、理由和依据"), filters=[trim],
                            validators=[required("质疑事项、理由和依据"), max_length(10000)],
                            render_kw={"rows": 6})
    submit = SubmitField(_l("提出质疑"))
