"""PDF rendering: Chinese text and fonts, the locked-down URL fetcher, the org directory."""
import base64
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from jinja2 import ChoiceLoader, FileSystemLoader
from PIL import Image
from pypdf import PdfReader

from procurement.accounts.roles import Role
from procurement.core.money import in_words
from procurement.documents import pdf
from procurement.documents.excel import attachment, disposition
from procurement.orgs.models import OrgKind

TEST_TEMPLATES = Path(__file__).parent / "templates"


@pytest.fixture
def test_templates(app, monkeypatch):
    """Let render_pdf find tests/documents/templates as well, for this test only."""
    loader = ChoiceLoader([FileSystemLoader(str(TEST_TEMPLATES)), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)


@pytest.fixture
def fetched(monkeypatch):
    """Record every URL the renderer asks the fetcher for, and whether it was served."""
    calls = []
    real_fetch = pdf.url_fetcher.fetch

    def spy(url, headers=None):
        try:
            response = real_fetch(url, headers)
        except Exception as exc:
            calls.append((url, exc))
            raise
        calls.append((url, response))
        return response

    monkeypatch.setattr(pdf.url_fetcher, "fetch", spy)
    return calls


def pdf_text(data: bytes) -> str:
    """All text of a PDF, without the line breaks that table cells put into long names."""
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def embedded_fonts(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (200, 0, 0)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def render_chinese(rows=3):
    return pdf.render_pdf("pdf_test/chinese.html", buyer="晋江市灵源街道办事处",
                          amount=Decimal("400000"), amount_words=in_words(Decimal("400000")),
                          rows=rows)


def test_pdf_text_keeps_chinese_and_amount_in_words(app, test_templates):
    data = render_chinese()

    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "灵源街道" in text
    assert "人民币肆拾万元整" in text
    assert "¥400,000.00" in text
    assert "打印时间" in text
    assert "第1页/共1页" in text


def test_pdf_embeds_a_subset_of_the_cjk_font(app, test_templates):
    fonts = embedded_fonts(render_chinese())

    assert any("CJK" in name or "Noto" in name for name in fonts), fonts
    # Subset fonts are named with a six-letter tag: "/ABCDEF+Noto-Sans-CJK-SC".
    assert all(re.match(r"^/[A-Z]{6}\+", name) for name in fonts), fonts


def test_long_tables_repeat_their_header_and_number_pages(app, test_templates):
    data = render_chinese(rows=120)
    reader = PdfReader(io.BytesIO(data))

    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = re.sub(r"\s+", "", page.extract_text())
        assert "序号项目" in text  # the thead, on every page
        assert f"第{number}页/共{pages}页" in text


@pytest.mark.parametrize("url", [
    "http://example.com/x.css",
    "https://example.com/logo.png",
    "ftp://example.com/evil.woff2",
    "file:///etc/passwd",
    "FILE:///etc/passwd",
    "file:" + str(Path(pdf.BASE_CSS)),  # not even our own files, by URL
    "data:text/css,body{color:red}",
    "data:font/woff2;base64,AAAA",
    "data:,plain text",
    "passwd",
    "//example.com/x.png",
])
def test_url_fetcher_refuses_everything_but_data_images(url):
    with pytest.raises(pdf.RefusedURL):
        pdf.url_fetcher(url)


def test_url_fetcher_serves_a_data_image():
    response = pdf.url_fetcher(png_data_url())
    try:
        assert response.content_type == "image/png"
        assert response.read().startswith(b"\x89PNG")
    finally:
        response.close()


def test_template_cannot_reach_network_or_files(app, test_templates, fetched):
    data = pdf.render_pdf("pdf_test/hostile.html", pixel=png_data_url())

    assert "灵源街道" in pdf_text(data)  # it still renders
    outcome = dict(fetched)
    for url in ("http://example.com/x.css", "https://example.com/y.css",
                "file:///etc/hostname", "ftp://example.com/evil.woff2",
                "file:///etc/passwd", "file:///etc/shadow", "data:text/html,<b>no</b>"):
        assert isinstance(outcome.get(url), pdf.RefusedURL), (url, fetched)
    # Everything else was refused too; only the inline image was served.
    served = [url for url, result in fetched if not isinstance(result, Exception)]
    assert served == [png_data_url()]


def test_content_disposition_inline_and_attachment_carry_chinese_name():
    header = disposition("组织机构名录_20160101.pdf", inline=True)
    assert header.startswith("inline; ")
    assert "filename*=UTF-8''%E7%BB%84%E7%BB%87" in header
    assert attachment("名录.xlsx").startswith("attachment; ")


def test_admin_prints_the_org_directory(client, factory, login_as):
    office = factory.org(OrgKind.STREET_OFFICE, name="测试滨海街道办事处",
                         contact_person="陈海峰", contact_phone="0595-88880000")
    factory.community(street_office=office, name="测试东湖社区", grids=3)
    factory.org(OrgKind.AGENCY, name="测试同心社工服务社", region="厦门")
    factory.org(OrgKind.UNIVERSITY, name="测试华侨大学")
    factory.org(OrgKind.GOVERNMENT, name="测试审计局")
    login_as(Role.ADMIN)

    response = client.get("/admin/orgs/directory.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline; ")
    assert "no-store" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    for expected in ("组织机构名录", "测试滨海街道办事处", "陈海峰", "0595-88880000",
                     "测试东湖社区", "测试东湖社区居民委员会", "第一网格",
                     "测试同心社工服务社", "测试华侨大学", "测试审计局"):
        assert expected in text, expected


def test_auditor_may_print_the_directory(client, login_as):
    login_as(Role.AUDITOR)
    response = client.get("/admin/orgs/directory.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"


def test_agency_staff_may_not_print_the_directory(client, login_as):
    login_as(Role.AGENCY_STAFF)
    assert client.get("/admin/orgs/directory.pdf").status_code == 403


def test_org_list_links_to_the_printable_directory(client, login_as):
    login_as(Role.ADMIN)
    page = client.get("/admin/orgs/").get_data(as_text=True)
    assert "/admin/orgs/directory.pdf" in page
    assert "打印名录 (PDF)" in page


def test_directory_queries_do_not_grow_with_communities(app, db, factory):
    from procurement.orgs.views import directory_context

    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def queries_to_render():
        db.session.flush()
        db.session.expire_all()
        statements.clear()
        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            pdf.render_pdf("pdf/org_directory.html", **directory_context())
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    office = factory.org(OrgKind.STREET_OFFICE)
    factory.community(street_office=office, grids=2)
    few = queries_to_render()
    for _ in range(4):
        factory.community(street_office=office, grids=4)
    factory.community(grids=1)  # another street office
    many = queries_to_render()

    assert many == few
    assert few <= 4
