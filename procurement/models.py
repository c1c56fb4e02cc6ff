"""Imports every domain's models so the metadata (and Alembic) sees all tables.
Each domain keeps its own models.py; this module only gathers them."""
from procurement.accounts.models import User, UserRole  # noqa: F401
from procurement.audit.models import AuditEntry  # noqa: F401
from procurement.orgs.models import Community, Grid, Organisation  # noqa: F401
from procurement.documents.models import StoredFile  # noqa: F401
from procurement.tenders.evaluation_models import (CommitteeMember, Declaration,  # noqa: F401
                                                   EvaluationRound, RoundEntry, Score,
                                                   ScoreCorrection, ScoreSheet)
from procurement.tenders.models import (Bid, BidFile, Challenge, Clarification,  # noqa: F401
                                        Criterion, Invitation, PoolDraw, Tender,
                                        TenderDocument)
from procurement.contracts.models import (Agreement, AgreementCommunity,  # noqa: F401
                                          AgreementParty, Amendment, BudgetLine, Cooperation,
                                          Signature, SpecialAgreement, SubContract)
from procurement.tasks.models import (GridCase, Household, Premises, ServiceTask,  # noqa: F401
                                      TeamMember, WorkRecord)
from procurement.evaluations.models import (EvaluationFile, EvaluationPeriod,  # noqa: F401
                                            EvaluationScore, EvaluationSheet, Indicator,
                                            IndicatorSet, PeriodResult, Survey, SurveyResponse,
                                            SurveyToken)
from procurement.disbursements.models import (Account, Instalment, Movement,  # noqa: F401
                                              PaymentRule, SpendingReport)
from procurement.api.tokens import ApiToken  # noqa: F401
