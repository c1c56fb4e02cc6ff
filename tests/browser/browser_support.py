"""Support for the browser journeys: a live server on a database the journey commits to, a
business clock the test moves forward, Debian's chromium through Playwright, screenshots and
the axe-core accessibility check.

Not a conftest.py (tests/conftest.py must stay the only one): the journey module adds this
directory to sys.path and imports from here.
"""
import json
import os
import threading
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import make_server

from config import TestConfig
from procurement import create_app
from procurement.core import clock
from procurement.extensions import db as _db

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
PASSWORD = "Lingyuan@2016"  # every demo account's (procurement/demo.py)
TIMEOUT_MS = 20_000  # for any one element or page: generous on a busy CI machine
# Impacts that fail the check; "moderate" and "minor" ones are only written to the report.
BLOCKING_IMPACTS = {"serious", "critical"}
AXE_REPORT = "axe-violations.json"


def artifact_dir() -> Path:
    """Where screenshots and the axe report go: $TEST_ARTIFACTS, else test-artifacts/browser/
    in the repository (ignored by git), in a folder per database (`make test` runs both),
    emptied of an earlier run's files."""
    base = os.environ.get("TEST_ARTIFACTS")
    kind = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    path = (Path(base) if base else REPO / "test-artifacts" / "browser") / kind
    path.mkdir(parents=True, exist_ok=True)
    for old in (*path.glob("*.png"), *path.glob("FAILED-*.html"), path / AXE_REPORT):
        old.unlink(missing_ok=True)
    return path


# --- the business clock ----------------------------------------------------------------

class FrozenClock:
    """WSGI middleware: every request runs with the business clock frozen at `now`, which
    the test moves forward between steps (deadlines and openings pass without waiting).
    `clock.frozen` sets a ContextVar, so each request thread gets its own setting."""

    def __init__(self, app, now: datetime):
        self.app = app
        self.now = now

    def __call__(self, environ, start_response):
        with clock.frozen(self.now):
            # Materialise the body inside the frozen clock: a lazily generated response
            # would otherwise render after the clock was reset.
            return list(self.app(environ, start_response))


# --- the database and the server -------------------------------------------------------

@contextmanager
def live_app(tmp_path: Path):
    """An app whose requests really commit: a fresh PostgreSQL database on the
    TEST_DATABASE_URL server when it is set, else a fresh SQLite file. CSRF is on, as in
    production; the login throttle is raised because one address signs in as every role."""
    drop = None
    if os.environ.get("TEST_DATABASE_URL"):
        from conftest import _postgres_database
        url, drop = _postgres_database()
    else:
        url = f"sqlite:///{tmp_path / 'journey.sqlite3'}"
    app = create_app(TestConfig, overrides={
        "SQLALCHEMY_DATABASE_URI": url, "UPLOAD_DIR": str(tmp_path / "uploads"),
        "WTF_CSRF_ENABLED": True, "LOGIN_RATE_LIMIT": "1000 per minute",
        # Static files cached by each browser instead of revalidated on every page.
        "SEND_FILE_MAX_AGE_DEFAULT": 3600,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10} if drop else {}})
    with app.app_context():
        upgrade()
    try:
        yield app
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        if drop:
            drop()


@contextmanager
def serve(wsgi_app):
    httpd = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(10)


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's browser, never one downloaded by Playwright; no name resolves, so nothing
        # can be fetched from the internet (the server is addressed by IP).
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        try:
            yield browser
        finally:
            browser.close()


# --- accessibility ---------------------------------------------------------------------

class AxeReport:
    """axe-core run on a page: collects every violation (all impacts) for the JSON report;
    `blocking()` are the serious and critical ones."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.pages: dict[str, list[dict]] = {}
        self.source = AXE.read_text(encoding="utf-8")

    def check(self, name: str, page) -> list[dict]:
        """Run axe on the page in place. The vendored script is evaluated through the
        DevTools protocol, which the page's CSP does not govern (a <script> tag would be
        refused), so the journey itself never runs with the CSP bypassed."""
        if page.evaluate("typeof window.axe") == "undefined":
            page.evaluate(self.source + "\n;typeof axe")
        result = page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                helpUrl: v.helpUrl, nodes: v.nodes.map(n => ({target: n.target,
                html: n.html.slice(0, 300), summary: n.failureSummary}))}));
        }""")
        self.pages[name] = [dict(v, url=page.url) for v in result]
        self.write()
        return [v for v in result if v["impact"] in BLOCKING_IMPACTS]

    def write(self) -> Path:
        path = self.folder / AXE_REPORT
        path.write_text(json.dumps(self.pages, ensure_ascii=False, indent=2), encoding="utf-8")
        return path


def describe(violations: list[dict]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']} at "
                     f"{', '.join(str(n['target']) for n in v['nodes'][:5])}"
                     for v in violations)


# --- people at their browsers ---------------------------------------------------------

class Journey:
    """What the steps share: the app, the server's clock, the browser, what each step
    found (ids, tokens), and which steps passed."""

    def __init__(self, app, clock_, base, browser):
        self.app, self.clock, self.base, self.browser = app, clock_, base, browser
        self.passed: set[str] = set()
        self.found: dict = {}
        self.shots = artifact_dir()
        self.axe = AxeReport(self.shots)
        self._counter = 0
        self.open: list["Actor"] = []
        self.people: dict[str, "Actor"] = {}

    def at(self, moment: datetime) -> None:
        assert moment >= self.clock.now, "the journey's clock only moves forward"
        self.clock.now = moment

    def sign_in(self, username: str) -> "Actor":
        """The person at their browser: signed in through the login form the first time,
        later back on their home page in the same browser (its cookies and cache kept)."""
        actor = self.people.get(username)
        if actor is None:
            context = self.browser.new_context(locale="zh-CN", viewport=DESKTOP)
            context.set_default_timeout(TIMEOUT_MS)
            actor = self.people[username] = Actor(self, username, context)
            actor.login()
        else:  # the same tab, back on the home page
            actor.goto("/")
        self.open.append(actor)
        return actor

    def phone(self) -> "Actor":
        """A resident's phone: no account, a narrow touch screen."""
        context = self.browser.new_context(locale="zh-CN", viewport=PHONE, device_scale_factor=2,
                                           is_mobile=True, has_touch=True)
        context.set_default_timeout(TIMEOUT_MS)
        actor = Actor(self, "", context)
        self.open.append(actor)
        return actor

    def shot(self, page, name: str) -> Path:
        self._counter += 1
        path = self.shots / f"{self._counter:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


class Actor:
    """One person at one browser: a context of their own, signed in through the form."""

    def __init__(self, journey: Journey, username: str, context):
        self.journey, self.username, self.context = journey, username, context
        self.page = context.new_page()
        # data-confirm buttons ask window.confirm(); the person says yes.
        self.page.on("dialog", lambda dialog: dialog.accept())

    def goto(self, path: str, status: int = 200):
        response = self.page.goto(self.journey.base + path)
        assert response.status == status, (path, response.status, self.text()[:2000])
        return response

    def login(self) -> None:
        self.goto("/login")
        if "login" not in self.journey.axe.pages:
            self.check_accessibility("login")
        self.page.get_by_label("用户名").fill(self.username)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.click("登录")
        assert "/login" not in self.page.url, self.text()[:1000]

    def click(self, name: str, exact: bool = False, within=None) -> None:
        """Press a button that posts a form, and wait for the page it leads to."""
        with self.page.expect_navigation():
            (within or self.page).get_by_role("button", name=name, exact=exact).click()

    def flash(self) -> str:
        return " ".join(self.page.locator("main .alert").all_inner_texts())

    def expect_flash(self, text: str) -> None:
        assert text in self.flash(), f"expected {text!r} in the messages: {self.flash()!r}"

    def text(self) -> str:
        return self.page.locator("body").inner_text()

    def shot(self, name: str) -> None:
        self.journey.shot(self.page, name)

    def check_accessibility(self, name: str) -> None:
        """axe-core on the page as it is: no serious or critical violation."""
        blocking = self.journey.axe.check(name, self.page)
        assert not blocking, f"axe-core on {name}:\n{describe(blocking)}"

    def close(self) -> None:
        """Step away: the tab stays (a new one costs more than a page load), and with it the
        person's session for a later step."""
        self.journey.open.remove(self)
