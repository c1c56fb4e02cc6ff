"""The payment voucher (拨付单): its Chinese text extracts from the PDF, the amount is right in
figures and in 大写, and it names the parties, community, quarter, grade and computation,
the voucher number and who requested, approved and paid it; a release has its own voucher,
a reversed payment's voucher says so, and a reversal has none."""
import io

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from disbursements.test_disbursements import accept_quarter
from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.disbursements import services
from procurement.disbursements.models import Account, Movement
from procurement.disbursements.voucher import load_movement, voucher_context
from procurement.documents.pdf import render_pdf
from procurement.extensions import db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    return "".join(text.split())  # line wraps may fall inside a name


def voucher_url(movement) -> str:
    return f"/disbursements/movements/{movement.id}/voucher.pdf"


@pytest.fixture
def paid(appraised, factory):
    """The first quarter graded 基本合格 (90%): ¥90,000.00 paid, ¥10,000.00 withheld."""
    a = appraised
    finance = factory.user(Role.FINANCE_OFFICER, org=a["agreement"].cooperation.street_office)
    accept_quarter(a, "0.7")
    account = db.session.scalar(sa.select(Account).where(
        Account.agreement_id == a["agreement"].id, Account.community_id == a["community"].id))
    instalment = account.instalments[0]
    services.request(a["manager"], instalment)
    services.approve(a["leader"], instalment)
    services.pay(finance, instalment, paid_on=clock.today(), voucher_no="LYJD-2016-001")
    payment = db.session.scalar(sa.select(Movement).where(Movement.instalment_id == instalment.id))
    return {**a, "finance": finance, "instalment": instalment, "payment": payment}


def test_the_voucher_text_extracts_with_the_amount_in_words(paid, sign_in):
    a = paid
    response = sign_in(a["finance"]).get(voucher_url(a["payment"]))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "inline" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "政府购买服务资金拨付单" in text and "LYJD-2016-001" in text
    # ¥90,000.00 in figures and in 大写.
    assert "¥90,000.00" in text and "人民币玖万元整" in text
    cooperation = a["agreement"].cooperation
    for name in (cooperation.street_office.name, cooperation.agency.name, a["community"].name,
                 a["agreement"].number):
        assert name in text, name
    assert "第一季度" in text and "基本合格" in text and "90%" in text
    assert "¥100,000.00×90%=¥90,000.00" in text  # the computation, spaces dropped
    for person in (a["manager"], a["leader"], a["finance"]):
        assert person.name in text, person.name
    assert "已冲正" not in text


def test_a_release_has_its_own_voucher_and_a_reversed_payment_says_so(paid, sign_in):
    a = paid
    instalment = a["instalment"]
    release = services.release(a["finance"], instalment, amount_fen=instalment.withheld_fen,
                               paid_on=clock.today(), voucher_no="LYJD-2016-002",
                               reason="整改已验收合格")
    text = pdf_text(render_pdf("pdf/payment_voucher.html",
                               **voucher_context(load_movement(release.id))))
    assert "补拨暂扣款" in text and "LYJD-2016-002" in text
    assert "¥10,000.00" in text and "人民币壹万元整" in text and "整改已验收合格" in text

    services.reverse(a["finance"], release, reason="随原拨付一并冲正")  # the release first
    correction = services.reverse(a["finance"], a["payment"], reason="凭证号录错")
    client = sign_in(a["committee"])  # the community's committee reads its vouchers
    text = pdf_text(client.get(voucher_url(a["payment"])).data)
    assert "本笔拨付已冲正" in text and "凭证号录错" in text
    assert client.get(voucher_url(correction)).status_code == 404


def test_an_amount_with_jiao_and_fen_is_written_in_words(paid):
    """A payment of ¥89,999.05 (less than payable, with a reason): 零 before the 分."""
    a = paid
    services.reverse(a["finance"], a["payment"], reason="金额有误")
    services.pay(a["finance"], a["instalment"], paid_on=clock.today(), voucher_no="LYJD-2016-003",
                 amount_fen=8_999_905, reason="扣除票据不合规部分")
    payment = db.session.scalar(sa.select(Movement).where(Movement.voucher_no == "LYJD-2016-003"))
    text = pdf_text(render_pdf("pdf/payment_voucher.html",
                               **voucher_context(load_movement(payment.id))))
    assert "¥89,999.05" in text and "人民币捌万玖仟玖佰玖拾玖元零伍分" in text
