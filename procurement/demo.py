"""The Lingyuan demo data (晋江市灵源街道, 2016). Organisations follow the field study;
every person and every agency other than 深圳慈善公益网 is fictional."""
import sqlalchemy as sa

from procurement.accounts.roles import Role
from procurement.accounts.services import create_user
from procurement.extensions import db
from procurement.orgs.models import OrgKind, Organisation
from procurement.orgs.services import create_community, create_organisation

DEMO_PASSWORD = "Lingyuan@2016"
STREET_OFFICE = "晋江市灵源街道办事处"

AGENCIES = [
    ("深圳慈善公益网", "深圳"),
    ("深圳市鹏城社会工作服务中心", "深圳"),
    ("深圳市启航社工服务社", "深圳"),
    ("厦门市鹭岛社会工作服务中心", "厦门"),
    ("厦门市同心社工服务社", "厦门"),
    ("晋江市晋心社会工作服务中心", "晋江"),
]

# (username, name, organisation, roles, title); README lists the same table.
DEMO_USERS = [
    ("admin", "林志强", STREET_OFFICE, [Role.ADMIN], "信息化管理员"),
    ("zhaobiao", "陈晓梅", STREET_OFFICE, [Role.TENDER_OFFICER], "招标专员"),
    ("hetong", "王建华", STREET_OFFICE, [Role.CONTRACT_MANAGER], "合同管理员"),
    ("caiwu", "黄丽娟", STREET_OFFICE, [Role.FINANCE_OFFICER], "财务科科长"),
    ("lingdao", "蔡明辉", STREET_OFFICE, [Role.LEADER], "街道办事处主任"),
    ("cishan", "李思远", "深圳慈善公益网", [Role.AGENCY_STAFF], "项目主管"),
    ("pengcheng", "张海燕", "深圳市鹏城社会工作服务中心", [Role.AGENCY_STAFF], "项目主管"),
    ("qihang", "刘俊杰", "深圳市启航社工服务社", [Role.AGENCY_STAFF], "项目主管"),
    ("ludao", "吴静怡", "厦门市鹭岛社会工作服务中心", [Role.AGENCY_STAFF], "项目主管"),
    ("tongxin", "郑文博", "厦门市同心社工服务社", [Role.AGENCY_STAFF], "项目主管"),
    ("jinxin", "许雅琪", "晋江市晋心社会工作服务中心", [Role.AGENCY_STAFF], "项目主管"),
    ("linkou", "洪秀英", "林口社区居民委员会", [Role.COMMITTEE_STAFF], "居委会主任"),
    ("lingshui", "施振华", "灵水社区居民委员会", [Role.COMMITTEE_STAFF], "居委会主任"),
    ("xiada", "周文涛", "厦门大学公共事务学院", [Role.UNIVERSITY_EVALUATOR], "副教授"),
    ("judge1", "苏国栋", STREET_OFFICE, [Role.JUDGE], "采购人代表"),
    ("judge2", "杨慧敏", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("judge3", "方志诚", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("judge4", "谢婉清", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("judge5", "曾庆余", "泉州市政府采购评审专家库", [Role.JUDGE], "评审专家"),
    ("shenji", "欧阳明", "晋江市审计局", [Role.AUDITOR], "审计员"),
]


def load_demo() -> bool:
    """Create the demo once; returns False when it is already there."""
    exists = db.session.execute(
        sa.select(Organisation.id).where(Organisation.name == STREET_OFFICE)
    ).first()
    if exists:
        return False
    street_office = create_organisation(
        None, kind=OrgKind.STREET_OFFICE, name=STREET_OFFICE, short_name="灵源街道",
        region="福建省晋江市", address="福建省晋江市灵源街道灵源路 1 号",
        contact_person="蔡明辉", contact_phone="0595-85000000")
    create_community(None, street_office=street_office, name="林口社区", households=2150,
                     population=8600, grid_count=5)
    create_community(None, street_office=street_office, name="灵水社区", households=1860,
                     population=7400, grid_count=5)
    create_organisation(None, kind=OrgKind.UNIVERSITY, name="厦门大学公共事务学院",
                        short_name="厦大公共事务学院", region="福建省厦门市")
    for name, region in AGENCIES:
        create_organisation(None, kind=OrgKind.AGENCY, name=name, region=region)
    create_organisation(None, kind=OrgKind.GOVERNMENT, name="泉州市政府采购评审专家库",
                        short_name="评审专家库", region="福建省泉州市")
    create_organisation(None, kind=OrgKind.GOVERNMENT, name="晋江市审计局", region="福建省晋江市")
    db.session.flush()

    orgs = {o.name: o for o in db.session.execute(sa.select(Organisation)).scalars()}
    for username, name, org_name, roles, title in DEMO_USERS:
        create_user(None, username=username, name=name, org=orgs[org_name], roles=roles,
                    title=title, password=DEMO_PASSWORD, must_change_password=False)
    return True
