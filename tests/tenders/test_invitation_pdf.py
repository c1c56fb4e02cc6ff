"""The printable invitation to bid (投标邀请书): Chinese text that extracts, amounts in
words, and only for those who may see the tender."""
import io

from pypdf import PdfReader


def text_of(response) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    return "".join(text.split())  # line wraps may fall inside a name


def test_invitation_pdf_shows_the_tender_in_chinese_with_amounts_in_words(live, sign_in):
    tender = live.published()
    text = text_of(sign_in(live.officer).get(f"/tenders/{tender.id}/invitation.pdf"))
    assert "投标邀请书" in text and tender.number in text
    assert "捌拾万元整" in text  # budget 800,000.00 in 大写
    assert "服务方案" in text and "投标报价" in text
    assert all(a.name in text for a in live.agencies)


def test_an_invited_agency_may_print_it_and_an_uninvited_one_may_not(live, sign_in):
    tender = live.published(invite=3)
    assert text_of(sign_in(live.agency_users[0]).get(f"/tenders/{tender.id}/invitation.pdf"))
    assert sign_in(live.agency_users[4]).get(f"/tenders/{tender.id}/invitation.pdf").status_code == 403


def test_a_draft_is_printable_by_the_officer_only(live, sign_in):
    tender = live.draft()
    assert sign_in(live.agency_users[0]).get(f"/tenders/{tender.id}/invitation.pdf").status_code == 403
    assert "自发布之日起" in text_of(sign_in(live.officer).get(f"/tenders/{tender.id}/invitation.pdf"))
