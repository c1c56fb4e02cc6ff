"""Machinery for tests/test_hostile_input.py: find every POST form of the pages by crawling
them as a signed-in user, post hostile values into it with Hypothesis, and check after each
post that nothing answered 500, that the database changed only together with a new audit
entry, and that a posted script never comes back unescaped.

Not a conftest.py (tests/conftest.py is the only one); import with
`from hostile_support import ...`.
"""
import hashlib
import io
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from procurement.extensions import db, limiter


# ---------------------------------------------------------------- forms on a page

@dataclass
class Field:
    name: str
    kind: str                      # input type, "select", "textarea" or "button"
    value: str | None = None       # what the browser would send as it stands
    options: list[str] = field(default_factory=list)
    multiple: bool = False
    selected: list[str] = field(default_factory=list)


@dataclass
class Form:
    url: str                       # where it posts (path and query)
    endpoint: str
    page: str                      # the page it was found on
    multipart: bool
    fields: list[Field]

    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form = None
        self._select = None
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(),
                          "action": a.get("action") or "",
                          "multipart": "multipart" in (a.get("enctype") or ""),
                          "fields": {}}
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        fields = self._form["fields"]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                f = fields.setdefault(name, Field(name, kind, multiple=kind == "checkbox"))
                f.options.append(a.get("value", "on"))
                if "checked" in a:
                    f.selected.append(a.get("value", "on"))
            elif kind in ("submit", "image", "reset"):
                f = fields.setdefault(name, Field(name, "button"))
                f.options.append(a.get("value", ""))
            else:
                fields.setdefault(name, Field(name, kind, value=a.get("value", "")))
        elif tag == "button" and name:
            f = fields.setdefault(name, Field(name, "button"))
            f.options.append(a.get("value", ""))
        elif tag == "select" and name:
            self._select = fields.setdefault(name, Field(name, "select",
                                                         multiple="multiple" in a))
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and name:
            self._textarea = fields.setdefault(name, Field(name, "textarea", value=""))

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            value, text, selected = self._option
            value = text.strip() if value is None else value
            self._select.options.append(value)
            if selected:
                self._select.selected.append(value)
            self._option = None
        elif tag == "select":
            self._option = None
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None:
                # A browser drops the newline that starts a textarea's content.
                text = self._textarea.value
                self._textarea.value = text[2:] if text.startswith("\r\n") else \
                    text[1:] if text.startswith("\n") else text
            self._textarea = None
        elif tag == "form":
            self._form = None


def parse_page(html: str):
    parser = _FormParser()
    parser.feed(html)
    return parser.forms, parser.links


def baseline(form: Form) -> MultiDict:
    """What a browser sends when the form is submitted as rendered."""
    data = MultiDict()
    for f in form.fields:
        if f.kind in ("checkbox", "radio"):
            for v in f.selected:
                data.add(f.name, v)
        elif f.kind == "select":
            chosen = f.selected or f.options[:1]
            for v in (chosen if f.multiple else chosen[:1]):
                data.add(f.name, v)
        elif f.kind == "button":
            data.add(f.name, f.options[0])
        elif f.kind == "file":
            continue
        else:
            data.add(f.name, f.value or "")
    return data


# ---------------------------------------------------------------- crawling

class Crawler:
    """Breadth-first over the links a user sees, collecting POST forms by endpoint.
    Downloads (PDF, Excel, images) are not fetched; each page endpoint is visited a bounded
    number of times so the walk stays small."""

    # Files, not pages: downloads of stored files and generated documents.
    SKIP_SUFFIXES = (".pdf", ".xlsx", ".csv", ".json", ".png", ".svg", ".zip")
    SKIP_ENDPOINTS = frozenset({
        "static", "bootstrap.static", "accounts.logout", "home.set_language", "home.healthz",
        "bidding.bid_file", "bidding.document", "judging.bid_file", "sheets.download",
        "tenders.download_document"})

    def __init__(self, app, per_endpoint: int = 30, max_pages: int = 400):
        self.app = app
        self.per_endpoint = per_endpoint
        self.max_pages = max_pages
        self.adapter = app.url_map.bind("localhost")

    def endpoint_of(self, path: str, method: str):
        try:
            endpoint, _ = self.adapter.match(path, method=method)
        except HTTPException:
            return None
        return endpoint

    def _skip(self, endpoint: str, path: str) -> bool:
        return (endpoint in self.SKIP_ENDPOINTS or path.startswith("/api/")
                or path.lower().endswith(self.SKIP_SUFFIXES))

    def crawl(self, client, start=("/",)) -> dict[str, Form]:
        found: dict[str, Form] = {}
        seen: set[str] = set()
        visits: dict[str, int] = {}
        # Plain paths first; the same pages with a query string (filters, tabs, pages of a
        # list) only when nothing else is left.
        queue, later = deque(start), deque()
        pages = 0
        while (queue or later) and pages < self.max_pages:
            url = queue.popleft() if queue else later.popleft()
            if url in seen:
                continue
            seen.add(url)
            path = urlsplit(url).path
            endpoint = self.endpoint_of(path, "GET")
            if endpoint is None or self._skip(endpoint, path):
                continue
            if visits.get(endpoint, 0) >= self.per_endpoint:
                continue
            visits[endpoint] = visits.get(endpoint, 0) + 1
            response = client.get(url)
            pages += 1
            if response.status_code != 200 or not response.mimetype == "text/html":
                continue
            forms, links = parse_page(response.get_data(as_text=True))
            for raw in forms:
                if raw["method"] != "post":
                    continue
                target = urljoin(url, raw["action"]) if raw["action"] else url
                split = urlsplit(target)
                if split.netloc and split.netloc != "localhost":
                    continue
                post_path = split.path + (f"?{split.query}" if split.query else "")
                ep = self.endpoint_of(split.path, "POST")
                if ep is not None and ep not in found:
                    found[ep] = Form(post_path, ep, url, raw["multipart"],
                                     list(raw["fields"].values()))
            for link in links:
                split = urlsplit(urljoin(url, link))
                if split.scheme not in ("", "http") or split.netloc not in ("", "localhost"):
                    continue
                if split.query:
                    later.append(f"{split.path}?{split.query}")
                else:
                    queue.append(split.path)
        return found


# ---------------------------------------------------------------- the database's state

def connection():
    """The test's connection (conftest's `db` fixture binds every session to it)."""
    return db.session.get_bind()


def table_state(conn) -> dict[str, tuple[int, str]]:
    """Row count and a digest of the content of every table."""
    state = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = conn.execute(sa.select(table).order_by(*order)).all()
        state[table.name] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


# ---------------------------------------------------------------- hostile values

SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
# A posted value must never come back verbatim (unescaped) in an HTML page.
MUST_BE_ESCAPED = (SCRIPT, ATTRIBUTE, "<img src=x onerror")

NASTY = [
    "", " ", "   \t\n ", "\u3000",
    "４０００００", "40万", "１.５万", "1.5万元", "¥400,000.00", "400,000", "4,00,000",
    "四十万", "壹佰元整", "０.０１", "-1", "0", "-0", "0.001", "1e3", "1e309", "-1e309",
    "NaN", "nan", "Infinity", "-Infinity", str(10**30), "-" + str(10**30), "9" * 40,
    "99999999999999999999.99", "0x10", "1_000", "+5", "5.", ".5", "1.234567",
    "2026-02-30", "2026/13/01", "2026-13-01", "昨天", "0000-00-00", "9999-12-31",
    "0001-01-01", "2026-02-28T25:61", "2026-06-01 12:00", "20260601", "1970-01-01",
    SCRIPT, ATTRIBUTE, "{{ 7*7 }}", "{% raw %}", "'; DROP TABLE users; --", "1' OR '1'='1",
    "%s%s%n", "../../etc/passwd", "\\x00", "a\x00b", "\x00", "\r\n\r\n", "\u202eevil\u202c",
    "\u200b", "\ufeff", "👩‍👩‍👧‍👦", "𝟜𝟘𝟘", "٤٠٠٠٠٠", "true", "false", "on", "None", "null",
    "字" * 10_000, "😀" * 3_000, "\u202e" * 500 + "x", "a" * 70_000,
]

# Anything the client can send: no lone surrogates (not encodable in UTF-8).
any_text = st.text(st.characters(codec="utf-8"), max_size=60)
numbers = st.one_of(
    st.integers(min_value=-10**40, max_value=10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.floats().map(repr),
)
nasty_value = st.one_of(st.sampled_from(NASTY), any_text, numbers)

NASTY_NAMES = ["", "报告.pdf", "../../etc/passwd", "a.pdf.exe", "x" * 300 + ".pdf", "名单.xlsx",
               "evil<script>.pdf", "CON.pdf", ".pdf", "noext", "照片.jpg", "a\u202efdp.exe"]
FILE_BODIES = [b"", b"%PDF-1.4\n% hostile\n", b"PK\x03\x04garbage", b"\x00" * 1000,
               b"<html><script>alert(1)</script></html>", b"\xff\xd8\xff\xe0JFIFnope"]
file_value = st.tuples(st.one_of(st.sampled_from(FILE_BODIES), st.binary(max_size=2_000)),
                       st.sampled_from(NASTY_NAMES))


def plausible(f: Field, today: str) -> st.SearchStrategy:
    """A value a careful user might type, so some posts get past validation."""
    by_kind = {
        "date": st.sampled_from([today, "2026-01-01", "2016-05-01"]),
        "datetime-local": st.sampled_from([today + "T10:00", "2026-01-01T09:00"]),
        "number": st.sampled_from(["1", "10", "0.5", "100", "95"]),
        "email": st.just("someone@example.cn"),
        "password": st.sampled_from(["Another-password-2026", "short"]),
    }
    return by_kind.get(f.kind, st.sampled_from(["测试", "1", "40万", "400000", "0.9", today]))


@st.composite
def hostile_data(draw, form: Form, today: str):
    """The form's own values with a few fields replaced by hostile ones, dropped, repeated,
    or (for choices) set to something not offered; the other fields as rendered or, when
    empty, filled plausibly, so that some posts get through and change something."""
    data = MultiDict()
    files = {}
    base = baseline(form)
    names = [f.name for f in form.fields]
    count = draw(st.sampled_from([0, 1, 1, 2, 3, len(names)]), label="fields to spoil")
    spoilt = set(draw(st.permutations(names), label="order")[:count]) if names else set()
    for f in form.fields:
        kept = base.getlist(f.name)
        if f.name not in spoilt:
            if f.kind == "file":
                if draw(st.booleans(), label=f"upload {f.name}"):
                    body, name = draw(file_value, label=f.name)
                    files[f.name] = [(io.BytesIO(body), name)]
                continue
            if not any(kept) and f.kind not in ("checkbox", "radio", "button") \
                    and draw(st.booleans(), label=f"fill {f.name}"):
                kept = [draw(plausible(f, today), label=f.name)]
            for v in kept:
                data.add(f.name, v)
            continue
        how = draw(st.sampled_from(["nasty", "nasty", "plausible", "omit", "repeat"]),
                   label=f"how {f.name}")
        if f.kind == "file":
            if how == "omit":
                continue
            uploads = [draw(file_value, label=f.name) for _ in range(2 if how == "repeat" else 1)]
            files[f.name] = [(io.BytesIO(body), name) for body, name in uploads]
            continue
        if how == "omit":
            values = []
        elif how == "plausible":
            values = [draw(plausible(f, today), label=f.name)]
        else:
            if f.options and draw(st.booleans(), label=f"offered {f.name}"):
                pool = st.sampled_from(f.options)
            else:
                pool = nasty_value
            values = [draw(pool, label=f.name)]
            if how == "repeat":
                values = values + [draw(nasty_value, label=f"{f.name} again")] + kept
        for v in values:
            data.add(f.name, v)
    if draw(st.booleans(), label="unknown field"):
        data.add("not_a_field", draw(nasty_value, label="not_a_field"))
    return data, files


def post_body(data: MultiDict, files: dict):
    if not files:
        return data
    body = MultiDict(data)
    for name, uploads in files.items():
        for upload in uploads:
            body.add(name, upload)
    return body


# ---------------------------------------------------------------- one example

AUDIT_TABLE = "audit_entries"
# endpoint -> [posts that changed the database, posts that did not]
OUTCOMES: dict[str, list[int]] = {}


def unescaped(html: str) -> list[str]:
    return [p for p in MUST_BE_ESCAPED if p in html]


def check_post(client, form: Form, data, files, no_audit_ok=frozenset(),
               attempts_audited=frozenset()) -> list[str]:
    """Post once inside a savepoint that is rolled back afterwards; return the broken
    invariants (empty when all hold)."""
    conn = connection()
    session_cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    savepoint = conn.begin_nested()
    problems = []
    try:
        limiter.reset()
        before = table_state(conn)
        response = client.post(form.url, data=post_body(data, files),
                               content_type="multipart/form-data" if files or form.multipart
                               else None)
        after = table_state(conn)
        if response.status_code >= 500:
            problems.append(f"answered {response.status_code}")
        changed = sorted(t for t in after if t != AUDIT_TABLE and after[t] != before[t])
        audited = after[AUDIT_TABLE][0] - before[AUDIT_TABLE][0]
        OUTCOMES.setdefault(form.endpoint, [0, 0])[0 if changed else 1] += 1
        if changed and not audited and form.endpoint not in no_audit_ok:
            problems.append(f"changed {changed} without an audit entry")
        if audited and not changed and form.endpoint not in attempts_audited:
            problems.append(f"{audited} audit entries but no other change")
        pages = [response]
        if response.status_code in (301, 302, 303) and "Location" in response.headers:
            target = urlsplit(response.headers["Location"])
            if target.netloc in ("", "localhost"):
                pages.append(client.get(target.path + (f"?{target.query}" if target.query else "")))
        for page in pages:
            if page.mimetype == "text/html":
                leaked = unescaped(page.get_data(as_text=True))
                if leaked:
                    problems.append(f"unescaped {leaked} in the page after the post")
            if page.status_code >= 500:
                problems.append(f"page after the post answered {page.status_code}")
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        cookie_name = client.application.config["SESSION_COOKIE_NAME"]
        if session_cookie is None:
            client.delete_cookie(cookie_name)
        else:
            client.set_cookie(cookie_name, session_cookie.value)
    return problems
