"""Build OCDS 1.1 release packages from what the public notices already publish.

One release per contracting process (ocid = OCDS_OCID_PREFIX + "-" + tender number), in
the compiled style: it carries the process's current state (tender, award, contracts with
their amendments and payments), its `tag` lists the stages present, and its `id` changes
whenever its `date` (the latest public event) does, so a changed process gets a new release
id. The API pages and the CLI export build the same package.

What is published, and what never is:
- only tenders whose notice is published (the same query as the notice pages);
- no bid price or proposal, ever, except the winning price once the award notice is out
  (what the award notice shows); after the opening the bidders are named as tenderers;
- only agreements, amendments and special agreements in force (never a draft or one being
  signed);
- payments as contracts[].implementation.transactions: standing payments and releases; a
  reversed payment and its reversal are both left out, so the transactions add up to what
  was really paid (the ledger keeps the correction).
Amounts are integer fen in the database, turned into yuan through Decimal.
"""
import json
import re
import secrets
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from procurement.contracts.document import amendments_in_force
from procurement.contracts.models import Agreement, AgreementParty, Cooperation, SpecialAgreement
from procurement.contracts.states import DocumentState, PartyRole
from procurement.core import clock
from procurement.core.calendar import SHANGHAI, to_local
from procurement.core.money import from_fen
from procurement.disbursements.models import Account, Instalment, Movement
from procurement.disbursements.states import MovementKind
from procurement.extensions import db
from procurement.tenders.models import Bid, Tender
from procurement.tenders.notice_views import _published
from procurement.tenders.states import BidState, TenderMethod, TenderState

OCDS_VERSION = "1.1"
CURRENCY = "CNY"
DEFAULT_PREFIX = "ocds-lyjd16"
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"

TENDER_STATUS = {
    TenderState.PUBLISHED: "active", TenderState.CLARIFIED: "active",
    TenderState.BIDDING_CLOSED: "active", TenderState.OPENED: "active",
    TenderState.EVALUATING: "active", TenderState.RESULT_PENDING: "active",
    TenderState.AWARDED: "complete", TenderState.FAILED: "unsuccessful",
    TenderState.CANCELLED: "cancelled",
}
# 公开招标 open; 邀请招标 only invited agencies may bid (selective); 竞争性磋商 the purchaser
# negotiates with the suppliers it chose (limited).
METHOD = {TenderMethod.OPEN: "open", TenderMethod.INVITED: "selective",
          TenderMethod.CONSULTATION: "limited"}
# Our contract parties in the partyRole codelist: the residents' committee supervises and
# the university studies and evaluates; neither buys nor supplies, so both are
# interestedParty (added to the codelist in 1.1.4).
PARTY_ROLE = {PartyRole.PURCHASER: "buyer", PartyRole.SUPERVISOR: "interestedParty",
              PartyRole.RESEARCH: "interestedParty", PartyRole.CONTRACTOR: "supplier"}


def prefix() -> str:
    return current_app.config.get("OCDS_OCID_PREFIX") or DEFAULT_PREFIX


def ocid(tender: Tender) -> str:
    return f"{prefix()}-{tender.number}"


def value(fen: int) -> dict:
    """An OCDS Value: the amount in yuan as a Decimal, written as an exact JSON number by
    `dumps` (never through a float)."""
    """{"amount": yuan, "currency": "CNY"}: exact, via Decimal (40000001 fen → 400000.01)."""
    return {"amount": from_fen(fen), "currency": CURRENCY}


def dumps(document: dict, indent: int | None = None) -> str:
    """The document as JSON text, each Decimal amount written as a JSON number from its own
    digits. The standard encoder has no exact Decimal number: amounts pass through it as
    strings wrapped in a per-call random marker, which is then unwrapped."""
    marker = secrets.token_hex(8)

    def exact(item):
        if isinstance(item, Decimal):
            return f"{marker}{item:f}{marker}"
        raise TypeError(f"{type(item).__name__} is not JSON serialisable")

    text = json.dumps(document, ensure_ascii=False, indent=indent, default=exact)
    return re.sub(f'"{marker}(-?[0-9]+(?:\\.[0-9]+)?){marker}"', r"\1", text)


def stamp(moment: datetime | date | None, end_of_day: bool = False) -> str | None:
    """ISO 8601 with the Beijing offset; a calendar day is its first (or last) second."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(23, 59, 59) if end_of_day else time(0),
                                  tzinfo=SHANGHAI)
    return to_local(moment).isoformat(timespec="seconds")


# --- loading -------------------------------------------------------------------------------

def published_tenders():
    """The select of every tender a public notice shows, oldest first (stable pages)."""
    return (_published()
            .options(joinedload(Tender.street_office), selectinload(Tender.communities),
                     selectinload(Tender.criteria), selectinload(Tender.clarifications),
                     joinedload(Tender.awarded_bid))
            .order_by(Tender.published_at, Tender.id))


class _Related:
    """What belongs to a batch of tenders, in a fixed number of queries."""

    def __init__(self, tenders: list[Tender]):
        ids = [t.id for t in tenders]
        opened = [t.id for t in tenders if t.opened_at is not None]
        self.bidders = defaultdict(list)
        if opened:
            # Only who bid (names, as read out at the opening): never the price or proposal.
            rows = db.session.execute(
                sa.select(Bid.tender_id, Bid.agency_id)
                .where(Bid.tender_id.in_(opened), Bid.state == BidState.SUBMITTED)
                .order_by(Bid.opening_order, Bid.id)).all()
            orgs = _orgs({agency_id for _, agency_id in rows})
            for tender_id, agency_id in rows:
                self.bidders[tender_id].append(orgs[agency_id])
        self.cooperation = {c.tender_id: c for c in db.session.scalars(
            sa.select(Cooperation).where(Cooperation.tender_id.in_(ids))
            .options(joinedload(Cooperation.street_office), joinedload(Cooperation.agency),
                     joinedload(Cooperation.university)))} if ids else {}
        coop_ids = [c.id for c in self.cooperation.values()]
        self.agreements = defaultdict(list)
        self.specials = defaultdict(list)
        if coop_ids:
            for agreement in db.session.scalars(
                    sa.select(Agreement).where(Agreement.cooperation_id.in_(coop_ids),
                                               Agreement.state == DocumentState.IN_FORCE)
                    .options(selectinload(Agreement.parties).joinedload(AgreementParty.org),
                             selectinload(Agreement.amendments))
                    .order_by(Agreement.year_no)):
                self.agreements[agreement.cooperation_id].append(agreement)
            for special in db.session.scalars(
                    sa.select(SpecialAgreement)
                    .where(SpecialAgreement.cooperation_id.in_(coop_ids),
                           SpecialAgreement.state == DocumentState.IN_FORCE)
                    .order_by(SpecialAgreement.number)):
                self.specials[special.cooperation_id].append(special)
        agreement_ids = [a.id for rows in self.agreements.values() for a in rows]
        special_ids = [s.id for rows in self.specials.values() for s in rows]
        # Payments, keyed by the contract they pay: the agreement's community accounts, or
        # the special agreement's own account.
        self.payments = defaultdict(list)
        if agreement_ids:
            rows = db.session.execute(
                sa.select(Movement, Account.agreement_id, Account.special_agreement_id)
                .join(Instalment, Movement.instalment_id == Instalment.id)
                .join(Account, Instalment.account_id == Account.id)
                .where(Account.agreement_id.in_(agreement_ids),
                       sa.or_(Account.special_agreement_id.is_(None),
                              Account.special_agreement_id.in_(special_ids or [-1])),
                       Movement.kind != MovementKind.REVERSAL,
                       Movement.reversed.is_(False))
                .order_by(Movement.paid_on, Movement.id)).all()
            for movement, agreement_id, special_id in rows:
                key = ("special", special_id) if special_id else ("agreement", agreement_id)
                self.payments[key].append(movement)


def _orgs(ids):
    from procurement.orgs.models import Organisation

    if not ids:
        return {}
    return {o.id: o for o in db.session.scalars(
        sa.select(Organisation).where(Organisation.id.in_(ids)))}


# --- building ------------------------------------------------------------------------------

class _Parties:
    def __init__(self):
        self._by_id = {}

    def add(self, org, *roles) -> dict:
        party = self._by_id.get(org.id)
        if party is None:
            party = self._by_id[org.id] = {"id": f"org-{org.id}", "name": org.name, "roles": []}
        for role in roles:
            if role not in party["roles"]:
                party["roles"].append(role)
        return {"id": party["id"], "name": party["name"]}

    def all(self) -> list[dict]:
        return list(self._by_id.values())


def build_release(tender: Tender, related: _Related) -> dict:
    parties = _Parties()
    office = parties.add(tender.street_office, "buyer", "procuringEntity")
    dates = [tender.published_at]
    tags = ["tender"]

    tender_data = {
        "id": tender.number,
        "title": tender.title,
        "status": TENDER_STATUS.get(tender.state, "active"),
        "procuringEntity": office,
        "items": [{"id": f"community-{c.id}", "description": c.name} for c in tender.communities],
        "value": value(tender.budget_fen),
        "procurementMethod": METHOD[tender.method],
        "procurementMethodDetails": str(tender.method.label),
        "mainProcurementCategory": "services",
        "awardCriteria": "ratedCriteria",
        "awardCriteriaDetails": "；".join(
            f"{c.name} {Decimal(c.weight) * 100:.0f}%" for c in tender.criteria),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": {"startDate": stamp(tender.published_at),
                         "endDate": stamp(tender.bid_deadline)},
    }
    if tender.description:
        tender_data["description"] = tender.description
    if tender.clarifications:
        tender_data["amendments"] = [
            {"id": str(c.number), "date": stamp(c.issued_at), "description": c.content}
            for c in tender.clarifications]
        dates += [c.issued_at for c in tender.clarifications]
    if tender.opened_at is not None:
        bidders = related.bidders.get(tender.id, [])
        tender_data["tenderers"] = [parties.add(o, "tenderer") for o in bidders]
        tender_data["numberOfTenderers"] = len(bidders)
        tender_data["awardPeriod"] = {"startDate": stamp(tender.opened_at)}
        dates.append(tender.opened_at)
    if tender.state in (TenderState.FAILED, TenderState.CANCELLED):
        # The reason (废标/终止公告) has no field in OCDS 1.1 core: the notice page shows it.
        dates.append(tender.ended_at)
        if tender.state is TenderState.CANCELLED:
            tags.append("tenderCancellation")

    release = {"tender": tender_data}
    award = None
    if tender.state is TenderState.AWARDED and tender.awarded_bid is not None:
        bid = tender.awarded_bid
        award = {"id": f"{tender.number}-award", "status": "active",
                 "date": stamp(tender.notice_published_at),
                 "value": value(bid.price_fen),
                 "suppliers": [parties.add(bid.agency, "supplier")]}
        if tender_data.get("awardPeriod") is not None:
            tender_data["awardPeriod"]["endDate"] = stamp(tender.notice_published_at)
        release["awards"] = [award]
        tags.append("award")
        dates.append(tender.notice_published_at)

    cooperation = related.cooperation.get(tender.id)
    contracts = []
    if award is not None and cooperation is not None:
        contracts = _contracts(cooperation, award, related, parties, dates)
    if contracts:
        release["contracts"] = contracts
        tags.append("contract")
        if any(c.get("amendments") for c in contracts):
            tags.append("contractAmendment")
        if any(c.get("implementation") for c in contracts):
            tags.append("implementation")

    when = max(d for d in dates if d is not None)
    return {
        "ocid": ocid(tender),
        "id": f"{tender.number}-{to_local(when).strftime('%Y%m%dT%H%M%S')}",
        "date": stamp(when),
        "tag": tags,
        "initiationType": "tender",
        "language": "zh",
        "parties": parties.all(),
        "buyer": office,
        **release,
    }


def _contracts(cooperation, award, related, parties, dates) -> list[dict]:
    result = []
    today = clock.today()
    office = parties.add(cooperation.street_office, "payer")
    agency = parties.add(cooperation.agency, "supplier", "payee")
    for agreement in related.agreements.get(cooperation.id, []):
        for party in agreement.parties:
            parties.add(party.org, PARTY_ROLE[party.role])
        contract = {
            "id": agreement.number,
            "awardID": award["id"],
            "title": cooperation.title,
            "description": _("第 %(n)s 年度服务协议", n=agreement.year_no),
            "status": "active" if agreement.end_date >= today else "terminated",
            "period": {"startDate": stamp(agreement.start_date),
                       "endDate": stamp(agreement.end_date, end_of_day=True)},
            "value": value(agreement.amount_fen),
            "dateSigned": stamp(agreement.in_force_at),
        }
        dates.append(agreement.in_force_at)
        amendments = amendments_in_force(agreement)
        if amendments:
            contract["amendments"] = [
                {"id": str(a.number), "date": stamp(a.in_force_at), "rationale": a.reason,
                 "description": "；".join(f"{c['label']}：{c['before']} → {c['after']}"
                                         for c in a.changes)}
                for a in amendments]
            dates += [a.in_force_at for a in amendments]
        _implementation(contract, related.payments.get(("agreement", agreement.id), []),
                        office, agency, dates)
        result.append(contract)
    for special in related.specials.get(cooperation.id, []):
        contract = {
            "id": f"{cooperation.number}-S{special.number}",
            "awardID": award["id"],
            "title": special.title,
            "status": "active" if special.end_date >= today else "terminated",
            "period": {"startDate": stamp(special.start_date),
                       "endDate": stamp(special.end_date, end_of_day=True)},
            "value": value(special.amount_fen),
            "dateSigned": stamp(special.in_force_at),
        }
        dates.append(special.in_force_at)
        _implementation(contract, related.payments.get(("special", special.id), []),
                        office, agency, dates)
        result.append(contract)
    return result


def _implementation(contract, movements, office, agency, dates) -> None:
    if not movements:
        return
    contract["implementation"] = {"transactions": [
        {"id": f"payment-{m.id}", "date": stamp(m.paid_on), "value": value(m.amount_fen),
         "payer": office, "payee": agency}
        for m in movements]}
    dates += [m.recorded_at for m in movements]


def package(tenders: list[Tender], *, uri: str, policy_uri: str | None,
            next_uri: str | None = None) -> dict:
    """A release package of these tenders' releases."""
    related = _Related(tenders)
    releases = [build_release(t, related) for t in tenders]
    published = max((r["date"] for r in releases), default=None) or stamp(clock.now())
    result = {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": published,
        "publisher": {"name": current_app.config.get("OCDS_PUBLISHER_NAME")
                      or _("政府购买服务管理平台")},
        "license": current_app.config.get("OCDS_LICENSE", DEFAULT_LICENSE),
        "publicationPolicy": policy_uri,
        "releases": releases,
    }
    if next_uri:
        result["links"] = {"next": next_uri}
    return result
