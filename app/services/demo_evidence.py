"""The demo's evidence and control tests: our own fictional documents for Northwind Lending,
written at demo time and attached through the services, in every status (current, expiring,
expired, a control marked implemented with none, i.e. missing)."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from app.services.control_tests import add_test
from app.services.evidence import Source, add_evidence, add_version, today
from app.store import Store

MODEL_CARD = """# Model card — Northwind credit-scoring model (v{v})

**Owner:** Model Risk Manager · **Approved:** model committee

## Intended use
Scores consumer loan applications (unsecured, up to 25,000 EUR). Not for mortgages.

## Data
Application data and bureau attributes, 2019–2025; protected attributes are excluded from
training and used only for fairness testing.

## Performance
| Segment | AUC | Approval rate |
|---|---|---|
| All | 0.78 | 61 % |
| Under 25 | 0.74 | 48 % |

## Limitations
Thin-file applicants are referred to a human underwriter.
"""

DRIFT_CSV = """feature,psi,threshold,status
income_monthly,0.04,0.10,stable
debt_to_income,0.12,0.10,alert
bureau_score,0.02,0.10,stable
employment_months,0.07,0.10,watch
"""

PIPELINE_LOG = """\
2026-10-30T02:00:04Z train start run=cs-2026-10-30 data_snapshot=ds-7f3a commit=9c1e2b
2026-10-30T02:41:17Z validate auc=0.781 gate=0.75 pass
2026-10-30T02:41:18Z fairness approval_gap=0.06 gate=0.10 pass
2026-10-30T02:43:02Z register model=credit-scoring version=3 signed=false
"""

TERRAFORM = """# serving cluster, reviewed in change CHG-4411
module "scoring_service" {
  source        = "./modules/service"
  replicas      = 3
  image_digest  = "sha256:5d1f…"
  public_access = false
}
"""


def _access_review() -> str:
    return json.dumps({"review": "Feature store access, Q3", "grants_reviewed": 412,
                       "revoked": 9, "reviewer": "CISO office",
                       "exceptions": ["2 service accounts without an owner (fixed)"]},
                      indent=2)


def _dpia_pdf(path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    pdf = Canvas(str(path), pagesize=A4, invariant=1)
    lines = ["Data protection impact assessment — credit scoring",
             "Northwind Lending (fictional) · prepared by the Data Protection Officer", "",
             "1. Processing: automated scoring of loan applications.",
             "2. Necessity and proportionality: features reviewed for minimisation.",
             "3. Risks: discriminatory outcomes; opaque refusals; over-retention.",
             "4. Measures: fairness gates, explanations, human review, 5-year retention."]
    y = 800
    for line in lines:
        pdf.drawString(60, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()


Writer = Callable[[Path], None]


def _text(content: str) -> Writer:
    return lambda p: p.write_text(content, encoding="utf-8")


def create_demo_evidence(store: Store) -> None:
    """Attach the demo's evidence and record its control tests."""
    now = today(store)

    def day(offset: int) -> str:
        return (now + timedelta(days=offset)).isoformat()

    with tempfile.TemporaryDirectory(prefix="crosswalk-demo-") as tmp:
        folder = Path(tmp)

        def attach(name: str, write: Writer, title: str, kind: str, controls: list[str],
                   clauses: list[str], collected: int, valid: int | None,
                   **extra: str) -> str:
            path = folder / name
            write(path)
            a = add_evidence(store, Source(path), title=title, kind=kind, controls=controls,
                             clauses=clauses, collected_at=day(-collected),
                             valid_until=day(valid) if valid is not None else None, **extra)
            return f"EV-{a.evidence.id}"

        card = attach("model-card-v2.md", _text(MODEL_CARD.format(v=2)),
                      "Credit-scoring model card", "document", ["GOV-2", "OPS-1"],
                      ["EU-AI-ACT Art. 13(1)"], 200, -20, source_system="Model registry",
                      classification="internal")
        (folder / "model-card-v3.md").write_text(MODEL_CARD.format(v=3), encoding="utf-8")
        add_version(store, card, Source(folder / "model-card-v3.md"), collected_at=day(-12),
                    valid_until=day(350), note="Re-validated after the October retraining")
        attach("dpia-credit-scoring.pdf", _dpia_pdf, "DPIA — credit scoring",
                      "document", ["GOV-3"], ["GDPR Art. 35(7)(b)"], 340, 18,
                      classification="confidential", period_from=day(-340),
                      period_to=day(25))
        attach("drift-report-2026-10.csv", _text(DRIFT_CSV), "Feature drift report, October",
               "report", ["OPS-2"], ["EU-AI-ACT Art. 15(1)"], 40, -6,
               source_system="Monitoring", period_from=day(-70), period_to=day(-40))
        access = attach("access-review-q3.json", _text(_access_review()),
                        "Quarterly access review, Q3", "test-result", ["SEC-1"],
                        ["GDPR Art. 32(1)(b)"], 30, 60, source_system="IAM")
        log = attach("training-run-cs-2026-10-30.log", _text(PIPELINE_LOG),
                     "Training pipeline run log", "log", ["GOV-4", "OPS-3"], [], 28, None,
                     source_system="ML pipeline")
        attach("serving-cluster.tf", _text(TERRAFORM), "Serving cluster configuration",
               "configuration", ["SEC-3"], [], 120, -40, source_system="Terraform")
        a = add_evidence(store, Source(url="https://registry.northwind.example/models/"
                                           "credit-scoring/lineage"),
                         title="Model registry lineage page", controls=["OPS-3"],
                         collected_at=day(-3))
        lineage = f"EV-{a.evidence.id}"

    add_test(store, "SEC-1", procedure="inspection", result="effective",
             population="412 feature-store access grants, Q3", sample_size=25,
             tested_on=day(-20), tester="Internal Audit", evidence=[access])
    add_test(store, "OPS-3", procedure="re-performance", result="effective-with-exceptions",
             population="Model versions promoted in October", sample_size=3,
             exceptions="Version 3 was registered unsigned; signing is planned (SEC-2).",
             tested_on=day(-10), tester="Internal Audit", evidence=[log, lineage])
    add_test(store, "GOV-2", procedure="inquiry", result="not-tested",
             population="Model validation reports", tested_on=day(-5), tester="Internal Audit",
             evidence=[f"{card}@2"])

