"""Printable PDF documents: a Jinja template from templates/pdf/ rendered with WeasyPrint.

A template is trusted code but its data is not (organisation names, addresses, uploaded
text), so the document may reach nothing outside itself: no network, no file system. The
only outside resource is our own stylesheet, handed to WeasyPrint as a parsed `CSS` object
rather than referenced by URL. Fonts are the system's Noto CJK (fonts-noto-cjk, see
scripts/ensure_system_packages.sh), embedded as subsets (HarfBuzz-Subset when
libharfbuzz-subset0 is installed, otherwise WeasyPrint falls back to slower fontTools).
"""
import threading
from pathlib import Path

from flask import Response, current_app, has_request_context, render_template
from flask_login import current_user
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from procurement.core.calendar import now_utc
from procurement.documents.excel import disposition

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
BASE_CSS = STATIC_DIR / "pdf.css"

# WeasyPrint options, chosen for small files that render fast:
# - full_fonts=False: embed only the glyphs used (a CJK font is 15-20 MB whole);
# - hinting=False: screen hinting is useless in a PDF and only adds bytes;
# - optimize_images / jpeg_quality / dpi: re-encode pictures (seals, signatures, logos)
#   and scale down anything finer than 300 dpi at its printed size.
PDF_OPTIONS = {
    "full_fonts": False,
    "hinting": False,
    "optimize_images": True,
    "jpeg_quality": 85,
    "dpi": 300,
    "uncompressed_pdf": False,
}


class RefusedURL(ValueError):
    """A document tried to load a resource it may not (WeasyPrint logs it and goes on)."""


class SafeURLFetcher(URLFetcher):
    """Refuse every URL except a `data:` URL holding an image.

    No http/https/ftp (no requests to the intranet or the internet from the server), no
    file: (no reading /etc/passwd or the instance folder into a document), and no data:
    stylesheets or fonts either. Relative URLs cannot resolve to anything, because
    documents are rendered without a base URL, and a `<base href>` pointing at file: or
    http: leads here too.
    """

    def __init__(self):
        # The parent's own protocol filter and no redirects, as a second line of defence:
        # only a data: URL ever reaches URLFetcher.fetch.
        super().__init__(timeout=1, allowed_protocols={"data"}, allow_redirects=False)

    def fetch(self, url, headers=None):
        scheme, sep, rest = str(url).partition(":")
        if not sep or scheme.strip().lower() != "data":
            raise RefusedURL(f"PDF documents may not load external resources: {url[:80]}")
        media_type = rest.split(",", 1)[0].split(";", 1)[0].strip().lower()
        if not media_type.startswith("image/"):
            raise RefusedURL(f"Only images may be embedded as data: URLs, not {media_type!r}")
        return super().fetch(url, headers)


url_fetcher = SafeURLFetcher()

_base_css: CSS | None = None
_base_css_lock = threading.Lock()
# A FontConfiguration (Fontconfig + a Pango font map) per thread: building one costs a
# Fontconfig load per document, and Pango font maps must not be shared between threads.
_fonts = threading.local()


def base_css() -> CSS:
    """The parsed pdf.css, parsed once per process."""
    global _base_css
    if _base_css is None:
        with _base_css_lock:
            if _base_css is None:
                _base_css = CSS(filename=str(BASE_CSS), url_fetcher=url_fetcher)
    return _base_css


def _font_config() -> FontConfiguration:
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def _printing_context() -> dict:
    """Who prints and when: shown in every document's header."""
    context = {"printed_at": now_utc(), "printing_org": "", "printed_by": ""}
    if has_request_context() and current_user.is_authenticated:
        context["printing_org"] = current_user.org.name
        context["printed_by"] = current_user.name
    return context


def _render_html(template_name: str, context: dict) -> str:
    context = {**_printing_context(), **context}
    if has_request_context():
        return render_template(template_name, **context)
    # CLI commands, jobs and benchmarks: the layout's context processors expect a request.
    with current_app.test_request_context():
        return render_template(template_name, **context)


def render_pdf(template_name: str, **context) -> bytes:
    """Render `templates/<template_name>` to PDF bytes (inside an app context)."""
    html = HTML(string=_render_html(template_name, context), base_url=None,
                url_fetcher=url_fetcher, media_type="print")
    return html.write_pdf(stylesheets=[base_css()], font_config=_font_config(), **PDF_OPTIONS)


render = render_pdf  # the name ARCHITECTURE.md uses


def pdf_response(template_name: str, filename: str, **context) -> Response:
    """The rendered document, shown in the browser (inline) under a Chinese file name."""
    return Response(
        render_pdf(template_name, **context),
        mimetype="application/pdf",
        headers={"Content-Disposition": disposition(filename, inline=True),
                 # Documents carry names and phone numbers: keep them out of shared caches.
                 "Cache-Control": "private, no-store"},
    )
