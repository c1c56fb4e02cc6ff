"""Who may see and do what to a tender. Sealing lives here: `can_read_bid` is the one gate
for a bid's price, proposal and files, and it is shut for everyone until the opening."""
from procurement.accounts.roles import Role
from procurement.core import clock
from procurement.orgs.models import OrgKind
from procurement.tenders.states import OPENED_STATES, BidState, TenderMethod, TenderState


def _in_office(user, tender) -> bool:
    return user.org_id == tender.street_office_id


def is_officer(user, tender) -> bool:
    return user.has_role(Role.TENDER_OFFICER) and _in_office(user, tender)


def is_overseer(user, tender) -> bool:
    """Reads the whole file of a tender: the office's leader, auditors."""
    return (user.has_role(Role.LEADER) and _in_office(user, tender)) or user.has_role(Role.AUDITOR)


def membership(user, tender):
    """The user's committee seat on this tender (active or replaced), or None."""
    if not user.has_role(Role.JUDGE):
        return None
    from procurement.tenders.evaluation import member_of
    return member_of(tender, user)


_LOOK_UP = object()


def is_judge_of(user, tender, seat=_LOOK_UP) -> bool:
    """`seat`: the user's membership when the caller already holds it (None for none)."""
    member = membership(user, tender) if seat is _LOOK_UP else seat
    return member is not None and member.active


def open_to_agency(tender, agency_id: int) -> bool:
    """A published tender is open to every agency when public, to invitees when invited."""
    if tender.published_at is None:
        return False
    if tender.method is TenderMethod.INVITED:
        return any(i.agency_id == agency_id and i.sent_at for i in tender.invitations)
    return True


def own_bid(user, tender):
    if not user.has_role(Role.AGENCY_STAFF) or user.org.kind is not OrgKind.AGENCY:
        return None
    return next((b for b in tender.bids if b.agency_id == user.org_id), None)


def can_view_tender(user, tender) -> bool:
    if is_officer(user, tender) or is_overseer(user, tender):
        return True
    if user.has_role(Role.CONTRACT_MANAGER) and _in_office(user, tender):
        return tender.published_at is not None
    if user.has_role(Role.AGENCY_STAFF):
        return open_to_agency(tender, user.org_id) or own_bid(user, tender) is not None
    return membership(user, tender) is not None


def can_manage(user, tender) -> bool:
    return is_officer(user, tender)


def can_create_tender(user) -> bool:
    return user.has_role(Role.TENDER_OFFICER) and user.org.kind is OrgKind.STREET_OFFICE


def can_bid(user, tender) -> bool:
    return user.has_role(Role.AGENCY_STAFF) and open_to_agency(tender, user.org_id)


def is_opened(tender) -> bool:
    """Opened, and the opening time has come: nothing in a bid is readable before both."""
    return (tender.opened_at is not None and clock.now() >= tender.opening_time
            and (tender.state in OPENED_STATES or tender.state in (TenderState.FAILED,
                                                                   TenderState.CANCELLED)))


def can_read_bid(user, bid, seat=_LOOK_UP) -> bool:
    """Price, proposal and files. Shut for everyone, the bidder and administrators included,
    until the tender is opened; then the purchaser's officer, overseers, the committee
    members and the bidder itself. `seat` as for `is_judge_of`."""
    tender = bid.tender
    if not is_opened(tender):
        return False
    if is_officer(user, tender) or is_overseer(user, tender):
        return True
    if user.has_role(Role.AGENCY_STAFF) and bid.agency_id == user.org_id:
        return True
    return is_judge_of(user, tender, seat) and bid.state is BidState.SUBMITTED


def can_see_committee(user, tender) -> bool:
    """The member list is confidential until the result is published (87号令 47)."""
    if is_officer(user, tender) or is_overseer(user, tender):
        return True
    if membership(user, tender) is not None:
        return True
    return tender.state is TenderState.AWARDED and can_view_tender(user, tender)


def can_see_all_scores(user, tender) -> bool:
    """Every judge's sheets: the officer and overseers after the round, never the bidders."""
    return is_officer(user, tender) or is_overseer(user, tender)


def can_challenge(user, tender) -> bool:
    return (tender.state is TenderState.AWARDED and own_bid(user, tender) is not None
            and own_bid(user, tender).state is BidState.SUBMITTED)
