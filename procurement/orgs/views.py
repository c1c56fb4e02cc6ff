"""Organisation administration: street offices and communities, universities, agencies."""
from collections import defaultdict

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from procurement.accounts.forms import ConfirmForm
from procurement.accounts.models import User
from procurement.accounts.roles import Role
from procurement.core.calendar import local_today
from procurement.core.errors import DomainError
from procurement.core.pages import paginate, perform
from procurement.core.permissions import allow
from procurement.documents.excel import xlsx_response
from procurement.documents.pdf import pdf_response
from procurement.extensions import db
from procurement.orgs import services
from procurement.orgs.forms import CommunityForm, OrganisationFilterForm, OrganisationForm
from procurement.orgs.models import Community, OrgKind, Organisation

bp = Blueprint("orgs", __name__, url_prefix="/admin/orgs")

ORG_FORM_FIELDS = ("name", "short_name", "credit_code", "region", "address", "contact_person",
                   "contact_phone")


def _filtered_orgs(form: OrganisationFilterForm):
    query = sa.select(Organisation)
    if form.q.data:
        like = f"%{form.q.data}%"
        query = query.where(sa.or_(Organisation.name.ilike(like),
                                   Organisation.short_name.ilike(like),
                                   Organisation.region.ilike(like)))
    if form.kind.data:
        query = query.where(Organisation.kind == OrgKind(form.kind.data))
    return query.order_by(Organisation.kind, Organisation.name)


def _user_counts(org_ids: list[int]) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(User.org_id, sa.func.count()).where(User.org_id.in_(org_ids))
        .group_by(User.org_id)
    ).all()
    return dict(rows)


@bp.route("/")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def index():
    form = OrganisationFilterForm(request.args)
    query = _filtered_orgs(form) if form.validate() else sa.select(Organisation).where(sa.false())
    page = paginate(query)
    return render_template("orgs/index.html", form=form, page=page,
                           user_counts=_user_counts([o.id for o in page.items]))


@bp.route("/export.xlsx")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def export():
    form = OrganisationFilterForm(request.args)
    query = _filtered_orgs(form) if form.validate() else sa.select(Organisation).where(sa.false())
    rows = ([o.name, o.kind.label, o.short_name or "", o.credit_code or "", o.region or "",
             o.address or "", o.contact_person or "", o.contact_phone or "",
             "启用" if o.active else "停用"] for o in db.session.execute(query).scalars())
    return xlsx_response("组织机构名录", ["名称", "类型", "简称", "统一社会信用代码", "所在地",
                                        "地址", "联系人", "联系电话", "状态"], rows)


def directory_context() -> dict:
    """Every organisation for the printed directory, communities (with their committees
    and grids) grouped under their street office: three queries, whatever the size."""
    orgs_by_kind = defaultdict(list)
    for org in db.session.execute(
        sa.select(Organisation).where(Organisation.kind != OrgKind.RESIDENTS_COMMITTEE)
        .order_by(Organisation.name)
    ).scalars():
        orgs_by_kind[org.kind].append(org)
    communities_by_office = defaultdict(list)
    for community in db.session.execute(
        sa.select(Community).order_by(Community.name)
        .options(selectinload(Community.committee), selectinload(Community.grids))
    ).scalars():
        communities_by_office[community.street_office_id].append(community)
    org_count = sum(map(len, orgs_by_kind.values())) + sum(map(len, communities_by_office.values()))
    return {"orgs_by_kind": orgs_by_kind, "communities_by_office": communities_by_office,
            "org_count": org_count}


@bp.route("/directory.pdf")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def directory_pdf():
    return pdf_response("pdf/org_directory.html", f"组织机构名录_{local_today():%Y%m%d}.pdf",
                        **directory_context())


@bp.route("/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create():
    form = OrganisationForm()
    if form.validate_on_submit():
        org = perform(lambda: services.create_organisation(
                          current_user, kind=OrgKind(form.kind.data),
                          **{f: form[f].data for f in ORG_FORM_FIELDS}),
                      lambda org: _("已创建组织“%(name)s”。", name=org.name), form)
        if org:
            return redirect(url_for("orgs.show", org_id=org.id))
    return render_template("orgs/org_form.html", form=form, org=None)


@bp.route("/<int:org_id>")
@allow(Role.ADMIN, read_only=[Role.AUDITOR])
def show(org_id: int):
    org = db.get_or_404(Organisation, org_id)
    communities = []
    if org.kind is OrgKind.STREET_OFFICE:
        communities = db.session.execute(
            sa.select(Community).where(Community.street_office_id == org.id)
            .options(selectinload(Community.grids)).order_by(Community.name)
        ).scalars().all()
    users = db.session.execute(
        sa.select(User).where(User.org_id == org.id).order_by(User.username)
        .options(selectinload(User.role_rows))
    ).scalars().all()
    return render_template("orgs/show.html", org=org, communities=communities, users=users,
                           form=ConfirmForm())


@bp.route("/<int:org_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit(org_id: int):
    org = db.get_or_404(Organisation, org_id)
    form = OrganisationForm(obj=org)
    form.kind.choices = [(org.kind.value, org.kind.label)]  # the kind of a body never changes
    form.kind.data = org.kind.value
    if form.validate_on_submit() and perform(
            lambda: services.update_organisation(current_user, org,
                                                 **{f: form[f].data for f in ORG_FORM_FIELDS}),
            _("已保存。"), form):
        return redirect(url_for("orgs.show", org_id=org.id))
    return render_template("orgs/org_form.html", form=form, org=org)


def _set_active(org_id: int, active: bool):
    org = db.get_or_404(Organisation, org_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: services.set_organisation_active(current_user, org, active),
                _("已启用。") if active else _("已停用，该组织的用户不能再登录。"))
    return redirect(url_for("orgs.show", org_id=org.id))


@bp.route("/<int:org_id>/deactivate", methods=["POST"])
@allow(Role.ADMIN)
def deactivate(org_id: int):
    return _set_active(org_id, False)


@bp.route("/<int:org_id>/activate", methods=["POST"])
@allow(Role.ADMIN)
def activate(org_id: int):
    return _set_active(org_id, True)


def _street_office_choices():
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrgKind.STREET_OFFICE, Organisation.active)
        .order_by(Organisation.name)
    ).all()
    return [(r.id, r.name) for r in rows]


def _chosen_street_office(form) -> Organisation:
    street_office = db.session.get(Organisation, form.street_office_id.data)
    if street_office is None:
        raise DomainError("请选择街道办事处。", field="street_office_id")
    return street_office


@bp.route("/communities/new", methods=["GET", "POST"])
@allow(Role.ADMIN)
def create_community():
    form = CommunityForm(street_offices=_street_office_choices())
    if request.method == "GET" and request.args.get("street_office_id", type=int):
        form.street_office_id.data = request.args.get("street_office_id", type=int)
    if form.validate_on_submit():
        community = perform(
            lambda: services.create_community(
                current_user, street_office=_chosen_street_office(form), name=form.name.data,
                households=form.households.data, population=form.population.data,
                grid_count=form.grid_count.data),
            lambda c: _("已创建%(name)s及其居委会和 %(n)s 个网格。", name=c.name, n=len(c.grids)),
            form)
        if community:
            return redirect(url_for("orgs.show", org_id=community.street_office_id))
    return render_template("orgs/community_form.html", form=form, community=None)


@bp.route("/communities/<int:community_id>/edit", methods=["GET", "POST"])
@allow(Role.ADMIN)
def edit_community(community_id: int):
    community = db.get_or_404(Community, community_id)
    form = CommunityForm(obj=community, street_offices=[(community.street_office_id,
                                                         community.street_office.name)])
    del form.grid_count  # grids are added one by one on the street office page
    if form.validate_on_submit() and perform(
            lambda: services.update_community(current_user, community, name=form.name.data,
                                              households=form.households.data,
                                              population=form.population.data),
            _("已保存。"), form):
        return redirect(url_for("orgs.show", org_id=community.street_office_id))
    return render_template("orgs/community_form.html", form=form, community=community)


@bp.route("/communities/<int:community_id>/grids", methods=["POST"])
@allow(Role.ADMIN)
def add_grid(community_id: int):
    community = db.get_or_404(Community, community_id)
    if ConfirmForm().validate_on_submit():
        perform(lambda: services.add_grid(current_user, community),
                lambda grid: _("已为%(c)s增加%(g)s。", c=community.name, g=grid.name))
    return redirect(url_for("orgs.show", org_id=community.street_office_id))
