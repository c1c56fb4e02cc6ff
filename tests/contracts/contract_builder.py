"""Cooperations and agreements at any stage, built on an awarded tender through the real
services. Import with `from contract_builder import ContractBuilder`; fixture `contracts`."""
from datetime import date, timedelta

from procurement.accounts.roles import Role
from procurement.contracts import changes, services
from procurement.contracts.states import BudgetCategory
from procurement.core import clock
from procurement.orgs.models import OrgKind


class ContractBuilder:
    def __init__(self, factory, tenders):
        self.factory = factory
        self.tenders = tenders  # a TenderBuilder
        self.university = factory.org(OrgKind.UNIVERSITY)
        office = tenders.office
        self.manager = tenders.witnesses[0]  # a contract manager of the office
        self.leader = factory.user(Role.LEADER, org=office)
        self.professor = factory.user(Role.UNIVERSITY_EVALUATOR, org=self.university)
        self.committee_user = factory.user(Role.COMMITTEE_STAFF,
                                           org=tenders.community.committee)

    def awarded(self):
        return self.tenders.awarded()

    def when(self, tender, days: float = 2):
        return tender.notice_published_at + timedelta(days=days)

    def cooperation(self, years: int = 3, amount_fen: int | None = 40_000_000, **overrides):
        tender = self.awarded()
        notice = tender.notice_published_at.date()
        start = date(notice.year, notice.month, 1) + timedelta(days=40)
        start = start.replace(day=1)
        fields = dict(university=self.university, start_date=start,
                      end_date=start.replace(year=start.year + years) - timedelta(days=1),
                      justification="服务稳定持续，资金有保障" if years > 1 else None,
                      amount_per_community_fen=amount_fen)
        fields.update(overrides)
        with clock.frozen(self.when(tender)):
            return services.create_cooperation(self.manager, tender, **fields)

    def agency_user(self, cooperation):
        index = next(i for i, a in enumerate(self.tenders.agencies) if a.id == cooperation.agency_id)
        return self.tenders.agency_users[index]

    def signers(self, cooperation):
        return [self.leader, self.committee_user, self.professor, self.agency_user(cooperation)]

    def sign_all(self, document, sign=None, days: float = 3):
        cooperation = document.cooperation if hasattr(document, "cooperation") else \
            document.agreement.cooperation
        sign = sign or (services.sign_agreement if hasattr(document, "year_no") else
                        changes.sign_amendment if hasattr(document, "changes") else
                        changes.sign_special)
        with clock.frozen(self.when(cooperation.tender, days)):
            for user in self.signers(cooperation):
                sign(user, document, document.content_hash)
        return document

    def in_force(self, **overrides):
        cooperation = self.cooperation(**overrides)
        self.sign_all(cooperation.agreements[0])
        return cooperation

    @staticmethod
    def budget_of(agreement, community_id=None):
        """{community_id: {category: fen}} as the agreement has it now."""
        result = {}
        for line in agreement.budget_lines:
            result.setdefault(line.community_id, {})[line.category] = line.amount_fen
        return result

    @staticmethod
    def amounts_of(agreement):
        return {c.community_id: c.amount_fen for c in agreement.communities}


WAGES = BudgetCategory.WAGES
TRAINING = BudgetCategory.TRAINING
