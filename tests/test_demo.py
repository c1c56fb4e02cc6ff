"""The Lingyuan demo: organisations from the field study and one login per role."""
import pytest
import sqlalchemy as sa

from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.audit import verify_chain
from procurement.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from procurement.orgs.models import Community, OrgKind, Organisation


@pytest.fixture
def demo(db):
    assert load_demo() is True
    db.session.flush()


def test_demo_has_lingyuan_street_office_communities_and_grids(demo, db):
    office = db.session.scalar(sa.select(Organisation).where(Organisation.name == "晋江市灵源街道办事处"))
    communities = db.session.scalars(sa.select(Community).where(Community.street_office_id == office.id)
                                     .order_by(Community.name)).all()
    assert {c.name for c in communities} == {"林口社区", "灵水社区"}
    for community in communities:
        assert community.committee.name == f"{community.name}居民委员会"
        assert len(community.grids) == 5


def test_demo_has_the_university_and_six_agencies(demo, db):
    agencies = db.session.scalars(sa.select(Organisation.name).where(Organisation.kind == OrgKind.AGENCY)).all()
    assert len(agencies) == 6 and "深圳慈善公益网" in agencies
    assert db.session.scalar(sa.select(Organisation).where(Organisation.name == "厦门大学公共事务学院")).kind is OrgKind.UNIVERSITY


def test_demo_has_a_user_for_every_role(demo, db):
    roles = {row.role for user in db.session.scalars(sa.select(User)) for row in user.role_rows}
    assert roles == set(Role)


def test_demo_loads_only_once(demo, db):
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Organisation))
    assert load_demo() is False
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == count


def test_demo_is_audited_and_the_chain_verifies(demo):
    report = verify_chain()
    assert report.ok and report.checked > len(DEMO_USERS)


@pytest.mark.parametrize("username, role", [(u[0], u[3][0]) for u in DEMO_USERS])
def test_each_demo_user_logs_in_to_a_home_page_for_their_role(app, demo, username, role):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert "待办事项" in html
    assert role.label in html


def test_demo_cli_command_loads_and_then_skips(app):
    runner = app.test_cli_runner()
    assert "已载入" in runner.invoke(args=["demo"]).output
    assert "跳过" in runner.invoke(args=["demo"]).output
