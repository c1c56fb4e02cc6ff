"""The agency side of a tender through the pages: what an agency sees, submitting, replacing
and withdrawing its sealed bid, refusals after the deadline, and sealing of its own bid.

Pages run on the real clock (each request is its own context), so tenders are built with
the builder's start relative to now: start = now gives a tender still open for bids,
start = now − 30 days one whose deadline has passed.
"""
import io

import pytest
import sqlalchemy as sa

from conftest import row_counts
from procurement.audit.models import AuditEntry
from procurement.core import clock
from procurement.documents.models import StoredFile
from procurement.extensions import db as _db
from procurement.tenders import bidding, services
from procurement.tenders.models import Bid, BidFile, Challenge
from procurement.tenders.states import BidState, TenderMethod
from tender_builder import AGENCY_NAMES as NAMES, PDF, Upload


def _counts():
    return row_counts(Bid, BidFile, StoredFile, AuditEntry, Challenge)


def _bid_of(tender, agency):
    return _db.session.scalar(sa.select(Bid).where(Bid.tender_id == tender.id,
                                                   Bid.agency_id == agency.id))


def _actions():
    return list(_db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.seq)))


def _post_bid(client, tender, price="40万", proposal="社区服务方案：三社联动。", files=()):
    return client.post(f"/bidding/{tender.id}/bid", data={
        "price": price, "proposal": proposal,
        "files": [(io.BytesIO(data), name) for name, data in files]},
        content_type="multipart/form-data")


# --- what an agency sees ----------------------------------------------------------------


def test_index_lists_public_tenders_and_invitations_sent_to_my_agency_only(live, sign_in):
    invited = live.published(title="邀请给前三家的项目", invite=3)
    public = live.published(title="公开招标的项目", method=TenderMethod.OPEN)
    draft = live.draft(title="尚未发布的项目", invite=3)

    html = sign_in(live.agency_users[0]).get("/bidding/").get_data(as_text=True)
    assert invited.title in html and public.title in html and draft.title not in html
    assert "剩余 21 天" in html or "剩余 22 天" in html  # the deadline countdown
    assert "未投标" in html

    html = sign_in(live.agency_users[4]).get("/bidding/").get_data(as_text=True)
    assert public.title in html
    assert invited.title not in html and draft.title not in html


def test_agency_not_invited_gets_403_on_show_submit_and_documents(live, sign_in):
    tender = live.draft(invite=3)
    with clock.frozen(live.start):
        document = services.attach_document(live.officer, tender, Upload("招标文件.pdf", PDF))
        services.publish(live.officer, tender)
    outsider = sign_in(live.agency_users[5])
    before = _counts()
    assert outsider.get(f"/bidding/{tender.id}").status_code == 403
    assert outsider.get(f"/bidding/{tender.id}/bid").status_code == 403
    assert _post_bid(outsider, tender).status_code == 403
    assert outsider.get(f"/bidding/{tender.id}/documents/{document.id}").status_code == 403
    assert _counts() == before

    invitee = sign_in(live.agency_users[0])
    response = invitee.get(f"/bidding/{tender.id}/documents/{document.id}")
    assert response.status_code == 200 and response.data == PDF
    assert "招标文件.pdf" in invitee.get(f"/bidding/{tender.id}").get_data(as_text=True)


def test_document_of_another_tender_is_not_served_through_this_one(live, sign_in):
    tender = live.published()
    other = live.draft()
    with clock.frozen(live.start):
        document = services.attach_document(live.officer, other, Upload("别的项目.pdf", PDF))
    client = sign_in(live.agency_users[0])
    assert client.get(f"/bidding/{tender.id}/documents/{document.id}").status_code == 404


def test_clarification_that_moved_the_deadline_is_announced(live, sign_in):
    tender = live.published()
    with clock.frozen(live.at(days=10)):
        services.clarify(live.officer, tender, content="服务范围增加林口社区。", affects_bids=True)
    html = sign_in(live.agency_users[0]).get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "服务范围增加林口社区。" in html
    assert "顺延至" in html


# --- submit, replace, withdraw ----------------------------------------------------------


def test_agency_submits_with_40wan_then_replaces_with_full_width_digits(live, sign_in):
    tender = live.published()
    client = sign_in(live.agency_users[0])
    response = _post_bid(client, tender, price="40万", files=[("服务方案.pdf", PDF)])
    assert response.status_code == 302
    bid = _bid_of(tender, live.agencies[0])
    assert (bid.price_fen, bid.version, bid.state) == (40_000_000, 1, BidState.SUBMITTED)
    assert [f.file.original_name for f in bid.current_files] == ["服务方案.pdf"]

    response = _post_bid(client, tender, price="４５００００", proposal="修订后的方案",
                         files=[("修订方案.pdf", PDF), ("报价明细.pdf", PDF)])
    assert response.status_code == 302
    _db.session.refresh(bid)
    assert (bid.price_fen, bid.version, bid.proposal) == (45_000_000, 2, "修订后的方案")
    assert sorted(f.file.original_name for f in bid.current_files) == ["修订方案.pdf", "报价明细.pdf"]
    assert _actions()[-2:] == ["bid.submit", "bid.replace"]
    page = client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "第 2 版" in page


def test_a_second_identical_post_only_makes_a_new_version(live, sign_in):
    tender = live.published()
    client = sign_in(live.agency_users[0])
    assert _post_bid(client, tender).status_code == 302
    assert _post_bid(client, tender).status_code == 302
    bids = _db.session.scalars(sa.select(Bid).where(Bid.tender_id == tender.id)).all()
    assert len(bids) == 1 and bids[0].version == 2


def test_bad_price_or_empty_proposal_is_refused_and_nothing_written(live, sign_in):
    tender = live.published()
    client = sign_in(live.agency_users[0])
    before = _counts()
    for price, proposal, message in (("四十万块", "方案", "金额"), ("", "方案", "请填写投标报价"),
                                     ("0", "方案", "投标报价必须大于零"),
                                     ("40万", "", "请填写技术方案")):
        response = _post_bid(client, tender, price=price, proposal=proposal)
        assert response.status_code == 200
        assert message in response.get_data(as_text=True), (price, proposal)
    assert _counts() == before


def test_agency_withdraws_and_may_submit_again_before_the_deadline(live, sign_in):
    tender = live.published()
    client = sign_in(live.agency_users[0])
    _post_bid(client, tender)
    response = client.post(f"/bidding/{tender.id}/withdraw", follow_redirects=True)
    assert "投标已撤回" in response.get_data(as_text=True)
    bid = _bid_of(tender, live.agencies[0])
    assert bid.state is BidState.WITHDRAWN and bid.withdrawn_at is not None
    assert _actions()[-1] == "bid.withdraw"

    assert _post_bid(client, tender, price="38万").status_code == 302
    _db.session.refresh(bid)
    assert (bid.state, bid.version, bid.price_fen) == (BidState.SUBMITTED, 2, 38_000_000)


def test_withdrawing_twice_is_refused_with_a_message(live, sign_in):
    tender = live.published()
    client = sign_in(live.agency_users[0])
    _post_bid(client, tender)
    client.post(f"/bidding/{tender.id}/withdraw")
    before = _counts()
    response = client.post(f"/bidding/{tender.id}/withdraw", follow_redirects=True)
    assert response.status_code == 200
    assert "alert-danger" in response.get_data(as_text=True)
    assert _counts() == before


def test_withdraw_without_a_bid_is_404(live, sign_in):
    tender = live.published()
    assert sign_in(live.agency_users[0]).post(f"/bidding/{tender.id}/withdraw").status_code == 404


def test_after_the_deadline_submit_replace_and_withdraw_are_refused_and_nothing_changes(past, sign_in):
    tender = past.published()
    past.bid(tender, 0, 60_000_000)
    bid = _bid_of(tender, past.agencies[0])
    own = sign_in(past.agency_users[0])
    newcomer = sign_in(past.agency_users[1])
    before = _counts()

    response = _post_bid(own, tender, price="30万")
    assert response.status_code == 200
    assert "投标已截止" in response.get_data(as_text=True)
    response = _post_bid(newcomer, tender, price="30万", files=[("迟到.pdf", PDF)])
    assert "投标已截止" in response.get_data(as_text=True)
    response = own.post(f"/bidding/{tender.id}/withdraw", follow_redirects=True)
    assert "投标已截止" in response.get_data(as_text=True)

    assert _counts() == before
    _db.session.refresh(bid)
    assert (bid.state, bid.version, bid.price_fen) == (BidState.SUBMITTED, 1, 60_000_000)
    page = own.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "投标已截止" in page
    # No submit or withdraw button any more.
    assert f"/bidding/{tender.id}/bid\"" not in page and f"/bidding/{tender.id}/withdraw" not in page


# --- uploads -----------------------------------------------------------------------------


@pytest.mark.parametrize("name, data, message", [
    ("病毒.exe", b"MZ\x90\x00", "文件类型不允许"),
    ("空白.pdf", b"", "是空文件"),
    ("伪装.pdf", b"MZ\x90\x00 not a pdf", "内容与扩展名"),
])
def test_bad_uploads_are_refused_and_nothing_is_written(live, sign_in, app, name, data, message):
    from pathlib import Path

    tender = live.published()
    client = sign_in(live.agency_users[0])
    before, files_before = _counts(), sorted(Path(app.config["UPLOAD_DIR"]).iterdir())
    response = _post_bid(client, tender, files=[("正常.pdf", PDF), (name, data)])
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _counts() == before
    assert sorted(Path(app.config["UPLOAD_DIR"]).iterdir()) == files_before


def test_oversize_file_is_refused_by_the_service(live, sign_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_FILE_SIZE", 1024 * 1024)
    tender = live.published()
    client = sign_in(live.agency_users[0])
    before = _counts()
    response = _post_bid(client, tender, files=[("大文件.pdf", PDF + b"0" * (1024 * 1024))])
    assert response.status_code == 200
    assert "超过 1 MB 的上限" in response.get_data(as_text=True)
    assert _counts() == before


def test_request_over_max_content_length_gets_a_clear_413_page(live, sign_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    tender = live.published()
    client = sign_in(live.agency_users[0])
    before = _counts()
    response = _post_bid(client, tender, files=[("大文件.pdf", PDF + b"0" * (128 * 1024))])
    assert response.status_code == 413
    assert "上传的文件过大" in response.get_data(as_text=True)
    assert _counts() == before


def test_path_in_an_uploaded_name_is_dropped(live, sign_in, app):
    from pathlib import Path

    tender = live.published()
    client = sign_in(live.agency_users[0])
    assert _post_bid(client, tender, files=[("../../etc/passwd.pdf", PDF)]).status_code == 302
    stored = _bid_of(tender, live.agencies[0]).current_files[0].file
    assert stored.original_name == "passwd.pdf"
    path = Path(app.config["UPLOAD_DIR"]) / stored.stored_name
    assert path.read_bytes() == PDF and "/" not in stored.stored_name


# --- sealing of my own bid ---------------------------------------------------------------

SECRET_PRICE = "433,321"  # 43_332_100 fen, formatted ¥433,321.00
SECRET_PROPOSAL = "我们独有的七步社区融入法"
SECRET_FILE = "绝密报价单.pdf"


def test_my_own_price_proposal_and_files_are_not_shown_before_opening(live, sign_in):
    tender = live.published()
    client = sign_in(live.agency_users[0])
    _post_bid(client, tender, price=SECRET_PRICE, proposal=SECRET_PROPOSAL,
              files=[(SECRET_FILE, PDF), ("附件二.pdf", PDF)])
    bid = _bid_of(tender, live.agencies[0])
    assert bid.price_fen == 43_332_100
    for url in ("/bidding/", f"/bidding/{tender.id}", f"/bidding/{tender.id}/bid"):
        html = client.get(url).get_data(as_text=True)
        for secret in ("433,321", "433321", "4333", SECRET_PROPOSAL, "七步", SECRET_FILE, "绝密"):
            assert secret not in html, (url, secret)
    html = client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "已递交" in html and "第 1 版" in html and "附件数" in html
    assert f"/bidding/{tender.id}/bid-files/" not in html
    for f in bid.current_files:
        assert client.get(f"/bidding/{tender.id}/bid-files/{f.id}").status_code == 403


def _opened_with_files(builder, open_it=True):
    """Four bids with one file each; opened (at the past deadline) when asked."""
    tender = builder.published()
    prices = (60_000_000, 64_000_000, 70_000_000, 75_000_000)
    for index, price in enumerate(prices):
        builder.bid(tender, index, price, uploads=[Upload(f"方案{index}.pdf", PDF + bytes([index]))])
    if open_it:
        with clock.frozen(builder.after_deadline(tender)):
            bidding.open_tender(builder.officer, tender)
    _db.session.flush()
    return tender


def test_own_file_is_refused_after_the_deadline_until_the_opening(past, sign_in):
    tender = _opened_with_files(past, open_it=False)
    bid = _bid_of(tender, past.agencies[0])
    client = sign_in(past.agency_users[0])
    assert client.get(f"/bidding/{tender.id}/bid-files/{bid.current_files[0].id}").status_code == 403
    assert "¥600,000.00" not in client.get(f"/bidding/{tender.id}").get_data(as_text=True)


def test_after_opening_my_bid_and_file_are_mine_to_read_but_not_another_agencys(past, sign_in):
    tender = _opened_with_files(past)
    mine = _bid_of(tender, past.agencies[0])
    theirs = _bid_of(tender, past.agencies[1])
    client = sign_in(past.agency_users[0])

    response = client.get(f"/bidding/{tender.id}/bid-files/{mine.current_files[0].id}")
    assert response.status_code == 200 and response.data == PDF + bytes([0])
    assert client.get(f"/bidding/{tender.id}/bid-files/{theirs.current_files[0].id}").status_code == 403

    html = client.get(f"/bidding/{tender.id}").get_data(as_text=True)
    assert "¥600,000.00" in html and "服务方案0" in html and "方案0.pdf" in html
    for other in ("¥640,000.00", "¥700,000.00", "¥750,000.00", "服务方案1", "方案1.pdf",
                  NAMES[1], NAMES[2], NAMES[3]):
        assert other not in html, other


def test_bid_file_of_a_replaced_version_is_not_served(past, sign_in):
    tender = past.published()
    past.bid(tender, 0, 60_000_000, uploads=[Upload("旧版.pdf", PDF)])
    old = _bid_of(tender, past.agencies[0]).current_files[0]
    past.bid(tender, 0, 61_000_000, days=11, uploads=[Upload("新版.pdf", PDF)])
    for index, price in ((1, 64_000_000), (2, 70_000_000)):
        past.bid(tender, index, price)
    with clock.frozen(past.after_deadline(tender)):
        bidding.open_tender(past.officer, tender)
    client = sign_in(past.agency_users[0])
    assert client.get(f"/bidding/{tender.id}/bid-files/{old.id}").status_code == 404
    assert "旧版.pdf" not in client.get(f"/bidding/{tender.id}").get_data(as_text=True)


def test_bid_file_through_another_tender_is_404(past, sign_in):
    tender = _opened_with_files(past)
    other = past.published()
    mine = _bid_of(tender, past.agencies[0])
    client = sign_in(past.agency_users[0])
    assert client.get(f"/bidding/{other.id}/bid-files/{mine.current_files[0].id}").status_code == 404


def test_a_lost_race_between_two_first_submissions_is_a_message_not_a_500(live, sign_in, monkeypatch):
    """PostgreSQL serialises submissions on the tender row; should a duplicate first bid
    still hit the unique constraint (SQLite has no row locks) the agency gets a message."""
    from sqlalchemy.exc import IntegrityError

    tender = live.published()
    client = sign_in(live.agency_users[0])

    def racing(*args, **kwargs):
        raise IntegrityError("INSERT INTO bids", {}, Exception("uq_bids_tender_id_agency_id"))

    monkeypatch.setattr(bidding, "submit_bid", racing)
    before = _counts()
    response = _post_bid(client, tender)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "正在另一处同时递交" in page
    assert _counts() == before
