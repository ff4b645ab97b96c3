"""The demo's AI systems and risk register: four systems and eight risks in every state (each
treatment, all three stages, re-scored over the past year so each has a trend), with five of
the six quality checks failing somewhere, as in a real register.

The history is told in order by a `StoryClock`: the demo's earlier chapters are dated up to
a year ago, so the audit log stays in time order and reviews and acceptances can fall due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.risks import accept_risk, add_risk, link_risk, score_risk, treat_risk
from app.services.systems import add_system, set_model_version
from app.store import Store


class StoryClock:
    """A clock that reads a set moment (advancing a millisecond per reading, so events keep
    their order) until `release()`, and the real time after."""

    def __init__(self) -> None:
        self._at: datetime | None = None

    def set(self, days_ago: float) -> None:
        self._at = datetime.now(UTC) - timedelta(days=days_ago)

    def release(self) -> None:
        self._at = None

    def advance(self, seconds: float) -> None:
        """Move the set moment on (an exercise's wall-clock time passing)."""
        assert self._at is not None
        self._at += timedelta(seconds=seconds)

    def __call__(self) -> datetime:
        if self._at is None:
            return datetime.now(UTC)
        self._at += timedelta(milliseconds=1)
        return self._at


def _day(clock: StoryClock, offset: int) -> str:
    return (clock() + timedelta(days=offset)).date().isoformat()


SYSTEMS: tuple[dict[str, str], ...] = (
    {"name": "Credit scoring", "tier": "high", "annex_iii_area": "5",
     "operator_role": "provider", "lifecycle": "production", "owner": "Model Risk Manager",
     "purpose": "Scores consumer loan applications up to 25,000 EUR.",
     "tier_justification": "Evaluates the creditworthiness of natural persons: Annex III "
                           "point 5(b); not excluded as fraud detection."},
    {"name": "Fraud detection", "tier": "minimal", "operator_role": "provider",
     "lifecycle": "production", "owner": "Head of Fraud",
     "purpose": "Flags card and loan transactions for investigation.",
     "tier_justification": "Annex III point 5(b) excludes systems that detect financial "
                           "fraud; no other high-risk use."},
    {"name": "Customer-service assistant", "tier": "limited", "operator_role": "deployer",
     "lifecycle": "validation", "owner": "Head of Customer Operations",
     "purpose": "Answers account questions in chat, built on a general-purpose model.",
     "tier_justification": "Interacts directly with people: the Art. 50(1) transparency "
                           "obligation applies."},
    {"name": "Collections prioritisation", "tier": "minimal", "operator_role": "provider",
     "lifecycle": "planned", "owner": "Head of Collections",
     "purpose": "Orders overdue accounts for contact by the collections team.",
     "tier_justification": "Ranks work for staff; no decision about a person is made by "
                           "it."},
)


def create_demo_systems_and_risks(store: Store, clock: StoryClock) -> None:
    """The inventory, then the register's history, chapter by chapter (see the module doc)."""
    clock.set(365)
    for fields in SYSTEMS:
        add_system(store, **fields)
    set_model_version(store, "Credit scoring", "3.1", approval_status="approved",
                      limitations="Thin-file applicants are referred to an underwriter.")
    set_model_version(store, "Fraud detection", "2.0", approval_status="approved")
    set_model_version(store, "Customer-service assistant", "0.9", approval_status="pending",
                      limitations="Answers only from the help-centre articles.")

    clock.set(300)
    add_risk(store, title="Bias against young applicants", system="Credit scoring",
             category="bias and fairness", inherent="likely/major", current="likely/major",
             cause="Thin credit files among applicants under 25",
             event="The model refuses creditworthy young applicants more often",
             consequence="Unfair treatment, complaints and a supervisory finding",
             owner="Model Risk Manager", knowledge="medium",
             knowledge_justification="Two years of outcomes; few young applicants.",
             controls=["GOV-2", "GOV-3"], clauses=["GDPR Art. 22(1)"],
             review_on=_day(clock, 290), review_every_days=90)
    add_risk(store, title="Concept drift after interest-rate changes", system="Credit scoring",
             category="concept drift", inherent="likely/moderate", current="possible/moderate",
             residual="unlikely/moderate", controls=["OPS-2"], owner="Model Monitoring Lead",
             cause="Rate rises change who applies and who repays",
             event="Scores no longer rank default risk well",
             consequence="Losses and wrongful refusals",
             review_on=_day(clock, 360), review_every_days=180, knowledge="high",
             knowledge_justification="Monthly back-tests since 2022.")
    add_risk(store, title="Poisoned labels from disputed chargebacks", system="Fraud detection",
             category="adversarial or poisoning", inherent="possible/severe",
             current="possible/major", residual="unlikely/major", controls=["SEC-2"],
             owner="Head of Fraud", cause="Fraudsters dispute chargebacks to relabel data",
             event="Retraining learns that their pattern is legitimate",
             consequence="Fraud passes unflagged", knowledge="low",
             knowledge_justification="No known case yet; red-team exercise planned.")
    add_risk(store, title="Personal data in assistant answers",
             system="Customer-service assistant", category="privacy leakage",
             inherent="likely/major", current="unlikely/major", residual="possible/major",
             owner="Data Protection Officer",
             cause="The model was prompted with account notes",
             event="An answer repeats another customer's details",
             consequence="A personal data breach to notify under GDPR Art. 33")
    add_risk(store, title="Model theft through the scoring API", system="Fraud detection",
             category="model theft or tampering", inherent="unlikely/major",
             current="unlikely/moderate", residual="rare/moderate", controls=["SEC-1", "SEC-3"],
             owner="CISO", cause="Unthrottled scoring calls",
             event="A competitor reconstructs the model", consequence="Loss of IP")
    add_risk(store, title="Scoring outage at month end", system="Collections prioritisation",
             category="availability", inherent="possible/moderate", current="possible/moderate",
             owner="Head of Collections", cause="Batch load peaks on the last working day",
             event="Prioritisation is unavailable for a day",
             consequence="Collectors work from yesterday's list")
    add_risk(store, title="Explanations applicants cannot follow", system="Credit scoring",
             category="compliance", inherent="possible/moderate", current="possible/minor",
             owner="Head of Compliance", clauses=["GDPR Art. 22(3)"],
             cause="Reason codes written for analysts",
             event="Applicants cannot contest a refusal",
             consequence="Complaints and a finding on Art. 22(3)")
    add_risk(store, title="Voice cloning in the assistant", system="Customer-service assistant",
             category="compliance", inherent="possible/major",
             owner="Head of Customer Operations",
             cause="The vendor offers cloned agent voices",
             event="Customers take a synthetic voice for a person",
             consequence="Breach of Art. 50 transparency duties")

    clock.set(200)
    treat_risk(store, "RK-1", "mitigate")
    treat_risk(store, "RK-2", "mitigate")
    treat_risk(store, "RK-3", "mitigate")
    treat_risk(store, "RK-4", "mitigate")  # no control linked yet: a check fails
    treat_risk(store, "RK-5", "transfer")
    treat_risk(store, "RK-8", "avoid")
    accept_risk(store, "RK-7", approver="Chief Risk Officer",
                justification="Plain-language reason codes ship in Q3; until then the "
                              "underwriters explain by phone.", expires=_day(clock, 180))
    score_risk(store, "RK-1", current="possible/major", residual="unlikely/moderate",
               note="fairness gate in the release pipeline")

    clock.set(100)
    score_risk(store, "RK-1", current="possible/moderate", note="quarterly review")
    score_risk(store, "RK-2", current="unlikely/moderate", note="drift alerts tuned")
    score_risk(store, "RK-3", current="possible/major", residual="possible/major",
               note="signing of training data postponed: residual stays high")

    clock.set(40)
    score_risk(store, "RK-4", current="unlikely/major", residual="possible/major",
               note="residual raised after the vendor's retention change")
    accept_risk(store, "RK-6", approver="Chief Operating Officer",
                justification="A day's delay costs less than a second data centre.",
                expires=_day(clock, 220))
    clock.set(20)
    score_risk(store, "RK-1", current="unlikely/moderate", note="monthly fairness report")
    link_risk(store, "RK-5", clauses=["GDPR Art. 32(1)(b)"])
