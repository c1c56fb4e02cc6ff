"""The interface is Chinese by default and switchable to English; the English catalog is
complete and in step with the source.

Message ids are the Chinese text itself, so zh_CN needs no catalog. The compiled .mo is
git-ignored (`make translations` builds it); these tests compile it themselves when it is
missing or older than the .po, so they pass on a fresh clone too."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from procurement import PACKAGE_DIR, PROJECT_DIR
from procurement.accounts.roles import Role
from procurement.extensions import babel

TRANSLATIONS = PACKAGE_DIR / "translations"
POT = TRANSLATIONS / "messages.pot"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
EN_MO = EN_PO.with_suffix(".mo")

# The same command TRANSLATIONS.md documents (run from the project directory).
EXTRACT = ["extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext"]
UPDATE_HINT = (
    "Update the catalog (see TRANSLATIONS.md):\n"
    "  .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext "
    "-o procurement/translations/messages.pot .\n"
    "  .venv/bin/pybabel update -i procurement/translations/messages.pot "
    "-d procurement/translations --no-fuzzy-matching\n"
    "then translate the new entries in procurement/translations/en/LC_MESSAGES/messages.po "
    "and run `make translations`."
)


def pybabel(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    """Run pybabel with this interpreter's Babel, as `make translations` does."""
    result = subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args],
                            cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"pybabel {' '.join(args)} failed:\n{result.stderr}"
    return result


def read_catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalog(app):
    """Build the .mo if `make translations` has not (or the .po changed since), and drop
    any translations Flask-Babel cached before it existed."""
    if not EN_MO.exists() or EN_MO.stat().st_mtime < EN_PO.stat().st_mtime:
        pybabel("-q", "compile", "-d", str(TRANSLATIONS))
    with app.app_context():
        babel.domain_instance.cache.clear()
    yield


# --- switching language ---------------------------------------------------------------

def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.location)
    return response.get_data(as_text=True)


def test_login_page_is_chinese_by_default(client):
    html = page(client, "/login")
    assert '<html lang="zh-CN"' in html
    assert "登录" in html
    assert "Sign in" not in html


def test_english_can_be_chosen_on_the_login_page(client):
    response = client.get("/lang/en")
    assert response.status_code == 302
    with client.session_transaction() as session:
        assert session["lang"] == "en"

    html = page(client, "/login")
    assert '<html lang="en"' in html
    assert "Sign in" in html
    assert "Username" in html             # a lazy form label
    assert "登录" not in html


def test_signed_in_pages_are_in_english_after_switching(client, factory, login):
    user = login(factory.user(Role.ADMIN))
    assert '<html lang="zh-CN"' in page(client, "/")

    client.get("/lang/en", headers={"Referer": "http://localhost/"})
    html = page(client, "/")
    assert '<html lang="en"' in html
    assert "Government Service Procurement Platform" in html
    assert f"Hello, {user.name}" in html  # a %(name)s placeholder
    assert "System administrator" in html  # a lazy role label
    assert "Your duties" in html
    assert "Sign out" in html
    assert "Organisations" in html        # the menu
    assert "Administration" in html       # a menu heading (lazy string in navigation.py)
    assert "您好" not in html


def test_language_chosen_before_signing_in_is_kept(client, factory, login):
    """Signing in starts a new session (no fixation) but keeps the chosen language."""
    client.get("/lang/en")
    login(factory.user(Role.ADMIN))
    html = page(client, "/")
    assert '<html lang="en"' in html
    assert "Your duties" in html


def test_chinese_can_be_chosen_again(client):
    client.get("/lang/en")
    client.get("/lang/zh_CN")
    html = page(client, "/login")
    assert '<html lang="zh-CN"' in html
    assert "登录" in html


def test_unknown_language_is_ignored(client):
    client.get("/lang/xx")
    with client.session_transaction() as session:
        assert "lang" not in session
    assert '<html lang="zh-CN"' in page(client, "/login")


# --- the catalog itself -----------------------------------------------------------------

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifeEgGxXor%]|\{[^{}]*\}")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_english_message_is_translated_with_matching_placeholders():
    catalog = read_catalog(EN_PO)
    untranslated, fuzzy, mismatched = [], [], []
    for message in catalog:
        if not message.id:
            continue
        if not message.string or not str(message.string).strip():
            untranslated.append(message.id)
            continue
        if message.fuzzy:
            fuzzy.append(message.id)
        if placeholders(message.id) != placeholders(message.string):
            mismatched.append(f"{message.id!r} -> {message.string!r}")
    assert not untranslated, "Untranslated in en/messages.po:\n  " + "\n  ".join(untranslated)
    assert not fuzzy, "Fuzzy (unchecked) entries in en/messages.po:\n  " + "\n  ".join(fuzzy)
    assert not mismatched, "Placeholders differ:\n  " + "\n  ".join(mismatched)
    # Babel's own checks (python-format flags and the like).
    errors = [f"{message.id!r}: {err}" for message, errs in catalog.check() for err in errs]
    assert not errors, "\n".join(errors)


@pytest.fixture(scope="module")
def source_msgids(tmp_path_factory) -> set[str]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel(*EXTRACT, "-o", str(pot), ".")
    return {m.id for m in read_catalog(pot) if m.id}


@pytest.mark.parametrize("path", [EN_PO, POT], ids=["en.po", "messages.pot"])
def test_catalog_is_up_to_date_with_the_source(source_msgids, path):
    committed = {m.id for m in read_catalog(path) if m.id}
    missing = sorted(source_msgids - committed)
    stale = sorted(committed - source_msgids)
    name = path.relative_to(PROJECT_DIR)
    assert not missing, (f"{len(missing)} string(s) in the source are not in {name}:\n  "
                         + "\n  ".join(missing) + "\n" + UPDATE_HINT)
    assert not stale, (f"{len(stale)} string(s) in {name} are no longer in the source:\n  "
                       + "\n  ".join(stale) + "\n" + UPDATE_HINT)
