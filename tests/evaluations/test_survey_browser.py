"""The resident's survey page in a real browser on a phone-sized screen (375 × 740):
headless Debian Chromium through Playwright, against a live server on a database the test
committed to (PostgreSQL through `committed_app`, else a fresh SQLite file), with CSRF on
as in production. Nothing scrolls sideways, every radio is a comfortable target, the
answers go through, and the link then says it was used."""
import os
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from conftest import _REAL_SESSION, Factory
from config import TestConfig
from procurement import create_app
from procurement.contracts import rules
from procurement.core.calendar import local_today, now_utc
from procurement.evaluations import plan, surveys
from procurement.evaluations.models import SurveyResponse, SurveyToken
from procurement.extensions import db as _db

CHROMIUM = Path("/usr/bin/chromium")
PHONE = {"width": 375, "height": 740}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium): run "
           "scripts/ensure_system_packages.sh")


@pytest.fixture
def live_app(request, db, monkeypatch, tmp_path):
    """An app whose requests really commit: `committed_app` on PostgreSQL, otherwise its
    own freshly migrated SQLite file."""
    if os.environ.get("TEST_DATABASE_URL"):
        app = request.getfixturevalue("committed_app")
    else:
        app = create_app(TestConfig, overrides={
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.sqlite3'}",
            "UPLOAD_DIR": str(tmp_path / "uploads")})
        monkeypatch.setattr(_db, "session", _REAL_SESSION)
        with app.app_context():
            upgrade()
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: the form must carry its token
    yield app
    if not os.environ.get("TEST_DATABASE_URL"):
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def open_survey(live_app):
    """A committed open survey of an agreement in force; returns its tokens."""
    from contracts.contract_builder import ContractBuilder
    from tenders.tender_builder import TenderBuilder

    with live_app.app_context():
        tenders = TenderBuilder(Factory()).started(160)
        contracts = ContractBuilder(Factory(), tenders)
        month = local_today().replace(day=1)
        for _ in range(4):
            month = (month - timedelta(days=1)).replace(day=1)
        coop = contracts.cooperation(start_date=month, end_date=rules.year_end(month, 3))
        agreement = coop.agreements[0]
        contracts.sign_all(agreement)
        survey = surveys.create(contracts.manager, plan.periods(agreement)[0],
                                agreement.communities[0].community, size=2,
                                closes_at=now_utc() + timedelta(days=7))
        found = surveys.tokens_of(survey)
        _db.session.commit()
        return found


@pytest.fixture
def server(live_app):
    httpd = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


@pytest.fixture
def phone():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Debian's browser, not one downloaded by Playwright.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                      has_touch=True, locale="zh-CN")
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def test_a_resident_answers_the_survey_on_a_narrow_phone_screen(live_app, open_survey, server,
                                                                 phone):
    token = open_survey[0]
    response = phone.goto(f"{server}/s/{token}")
    assert response.status == 200
    assert phone.get_by_role("heading", name="居民满意度调查").is_visible()

    # Nothing wider than the screen: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    radios = phone.locator("input[type=radio]")
    assert radios.count() == 5 * len(surveys.QUESTIONS)
    for i in range(radios.count()):
        box = radios.nth(i).bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24, box
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]

    # Tap the option's text (the whole row is the label) for every question.
    for question in surveys.QUESTIONS:
        phone.locator(f"label:has(input[name={question.key}][value='4'])").click()
        assert phone.locator(f"input[name={question.key}][value='4']").is_checked()
    phone.fill("textarea[name=comment]", "社工上门很及时，谢谢！")
    phone.get_by_role("button", name="提交问卷").click()
    phone.wait_for_url(f"{server}/s/thanks")
    assert phone.get_by_text("感谢您的参与").first.is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    with live_app.app_context():
        answers = _db.session.scalars(sa.select(SurveyResponse.answers)).all()
        assert answers == [{q.key: 4 for q in surveys.QUESTIONS}]
        assert _db.session.scalar(sa.select(SurveyToken.used).where(
            SurveyToken.token == token)) is True

    again = phone.goto(f"{server}/s/{token}")
    assert again.status == 410
    assert phone.get_by_text("已经填写过问卷").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
