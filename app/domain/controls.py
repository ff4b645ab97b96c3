"""The twelve MLOps governance controls: stable ids, names, categories and our own text.

The ids (GOV-1 … OPS-4) are the keys every mapping, export and test uses; they never change.
Objectives and guidance are written by the Crosswalk team, not taken from any standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ControlStatus(StrEnum):
    """Implementation status an analyst records for a control."""

    NOT_STARTED = "not-started"
    PLANNED = "planned"
    PARTIAL = "partial"
    IMPLEMENTED = "implemented"
    NOT_APPLICABLE = "not-applicable"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")

    @classmethod
    def parse(cls, text: str) -> ControlStatus:
        """Accept `implemented`, `Not started`, `not_applicable`… and return the status."""
        key = text.strip().lower().replace("_", "-").replace(" ", "-")
        try:
            return cls(key)
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"invalid status {text!r}; choose one of: {choices}") from None


CATEGORIES = {
    "GOV": "Governance & compliance",
    "SEC": "Security",
    "OPS": "Operational excellence",
}
SHORT_CATEGORIES = {
    "Governance & compliance": "Governance",
    "Security": "Security",
    "Operational excellence": "Operations",
}


@dataclass(frozen=True, slots=True)
class ControlDefinition:
    """A control as shipped: the analyst fields live in the workspace, not here."""

    id: str
    name: str
    objective: str
    guidance: str

    @property
    def category(self) -> str:
        return CATEGORIES[self.id.split("-")[0]]


CONTROLS: tuple[ControlDefinition, ...] = (
    ControlDefinition(
        "GOV-1",
        "Regulatory mapping and impact assessment",
        "Every legal obligation that applies to an ML system is identified, mapped to the "
        "controls that meet it, and re-assessed when the law or the system changes.",
        "Keep a register of the regulations in scope for each model and map each assessable "
        "clause to one or more controls with a written rationale. Run an impact assessment "
        "(DPIA, FRIA or AI Act classification) before a model enters production and whenever "
        "its purpose, data or population changes. When a regulation is amended, diff the new "
        "version against the old one and review every mapping the change touches.",
    ),
    ControlDefinition(
        "GOV-2",
        "Model risk identification and mitigation",
        "Risks arising from each model — bias, drift, overfitting, poisoning, leakage, misuse — "
        "are identified, scored on an agreed matrix and treated before and after deployment.",
        "Maintain a risk register per AI system that records inherent, current and residual "
        "risk with an owner and a review date. Validate models independently of their "
        "developers: out-of-time tests, stress scenarios and fairness metrics across protected "
        "groups. Tie every mitigation to a control and to evidence that it works, and record "
        "formal acceptance by an accountable approver when a risk is retained.",
    ),
    ControlDefinition(
        "GOV-3",
        "Data privacy and ethical AI guidelines",
        "Personal and sensitive data are used in training and inference only on a lawful basis, "
        "minimised, and under published ethical guidelines for fairness and transparency.",
        "Record the lawful basis and purpose for each training and inference data set, and "
        "minimise or pseudonymise personal data before it reaches a feature store. Test for "
        "memorisation and membership inference on models trained on personal or health data. "
        "Publish model cards that state intended use, known limitations and fairness results, "
        "and give affected people a route to explanation and human review.",
    ),
    ControlDefinition(
        "GOV-4",
        "Audit trails and reproducibility",
        "Every model decision path, training run and governance action can be reconstructed "
        "and shown, unaltered, to an auditor.",
        "Log training runs with their code commit, data snapshot, hyperparameters, random "
        "seeds and environment so a model can be rebuilt bit for bit or explained when it "
        "cannot. Keep inference logs (inputs, model version, output, explanation) for the "
        "retention period the law sets. Protect logs against alteration with hash chaining or "
        "write-once storage, and rehearse retrieval before an auditor asks.",
    ),
    ControlDefinition(
        "SEC-1",
        "Secure data handling and access control",
        "Training data, features, models and predictions are reachable only by the people and "
        "services that need them, and are protected in transit and at rest.",
        "Classify data sets and model artefacts and enforce least-privilege, role-based access "
        "to data lakes, feature stores, notebooks and model registries. Encrypt data at rest "
        "and in transit and manage keys outside the ML platform. Review access quarterly, "
        "remove leavers within a day, and log every read of restricted training data.",
    ),
    ControlDefinition(
        "SEC-2",
        "Model integrity protection",
        "Models in the registry and in production are exactly the ones that were validated "
        "and approved, and resist tampering, theft and adversarial manipulation.",
        "Sign model artefacts at build time and verify signatures and registry checksums "
        "before every deployment. Pin and scan third-party models, weights and dependencies "
        "for known vulnerabilities and unsafe serialisation. Run adversarial testing (evasion, "
        "poisoning, extraction, prompt injection where relevant) before release and after "
        "material changes, and rate-limit and monitor inference endpoints for extraction.",
    ),
    ControlDefinition(
        "SEC-3",
        "Secure infrastructure and deployment",
        "The platforms that train and serve models are hardened, isolated and deployed from "
        "reviewed, reproducible configuration.",
        "Define training and serving infrastructure as code, reviewed and scanned before it "
        "is applied. Isolate training environments from production and from the internet "
        "where data sensitivity requires it. Patch base images and GPU drivers on a schedule, "
        "scan containers before deployment, and keep secrets in a vault rather than notebooks "
        "or pipeline variables.",
    ),
    ControlDefinition(
        "SEC-4",
        "Incident response and recovery planning",
        "ML-specific incidents are detected, contained, notified within the legal deadlines "
        "and recovered from, and the response is rehearsed.",
        "Keep playbooks for ML incidents — harmful drift, poisoned training data, model theft, "
        "personal data leaking through outputs, serious incidents under the AI Act — with "
        "roles, escalation paths and the regulatory notification clocks that apply. Be able "
        "to roll back to the last approved model or switch to a fallback process within a "
        "stated time. Run tabletop exercises at least yearly and track their improvement items "
        "to closure.",
    ),
    ControlDefinition(
        "OPS-1",
        "Automated CI/CD for ML pipelines",
        "Models reach production only through automated pipelines that build, test, validate "
        "and approve them the same way every time.",
        "Run data validation, unit tests, training, evaluation against champion models and "
        "fairness checks as gated pipeline stages. Require a recorded human approval for "
        "promotion to production and block promotion when a quality gate fails. Keep pipeline "
        "definitions in version control and make manual deployments to production impossible "
        "or alarmed.",
    ),
    ControlDefinition(
        "OPS-2",
        "Continuous monitoring and drift detection",
        "Production models are watched for data drift, concept drift, performance decay and "
        "unfair outcomes, and someone acts when thresholds are crossed.",
        "Monitor input feature distributions for data drift (for example population stability "
        "index or Kolmogorov–Smirnov tests) and outcome-based metrics for concept drift once "
        "labels arrive. Set documented thresholds per metric, alert a named owner when they "
        "are breached, and record the decision taken. Track fairness metrics in production, "
        "not only at validation, and keep the monitoring reports as evidence.",
    ),
    ControlDefinition(
        "OPS-3",
        "Data and model versioning",
        "Every data set, feature definition, model and configuration in use can be identified "
        "by version and traced to what produced it.",
        "Version training data snapshots and feature definitions alongside code, and register "
        "every model with its lineage: data version, code commit, parameters and evaluation "
        "results. Make the production model version visible in every prediction log. Retain "
        "superseded versions for as long as decisions made with them can be challenged.",
    ),
    ControlDefinition(
        "OPS-4",
        "Performance optimisation and retraining",
        "Models are retrained, recalibrated or retired on evidence, through the same "
        "governed path as their first release.",
        "Define retraining triggers — drift thresholds, performance floors, scheduled "
        "refreshes — and the approvals each needs. Compare every retrained model with the "
        "model it replaces on held-out and out-of-time data and on fairness metrics before "
        "promotion. Track serving latency and cost budgets, and record the decision to retire "
        "a model together with the plan for its replacement.",
    ),
)

CONTROL_IDS: tuple[str, ...] = tuple(c.id for c in CONTROLS)


def normalise_control_id(text: str) -> str:
    """`ops2`, `OPS-2` and ` ops-2 ` all name OPS-2; raise ValueError for anything else."""
    key = text.strip().upper().replace("_", "-").replace(" ", "-")
    if "-" not in key and len(key) > 3:
        key = f"{key[:3]}-{key[3:]}"
    if key not in CONTROL_IDS:
        raise ValueError(f"unknown control {text!r}; controls are {', '.join(CONTROL_IDS)}")
    return key
