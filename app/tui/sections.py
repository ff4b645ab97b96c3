"""The sections of the TUI. Adding a screen = write a `SectionScreen` and add one line here;
the sidebar, number keys, command palette and help screen pick it up."""

from __future__ import annotations

from dataclasses import dataclass

from app.tui.screens.audit_log import AuditLogScreen
from app.tui.screens.base import SectionScreen
from app.tui.screens.controls import ControlsScreen
from app.tui.screens.dashboard import DashboardScreen
from app.tui.screens.evidence import EvidenceScreen
from app.tui.screens.exercises import ExercisesScreen
from app.tui.screens.export import ExportScreen
from app.tui.screens.mapping import MappingScreen
from app.tui.screens.playbooks import PlaybooksScreen
from app.tui.screens.regulations import RegulationsScreen
from app.tui.screens.risks import RisksScreen
from app.tui.screens.systems import SystemsScreen


@dataclass(frozen=True, slots=True)
class Section:
    id: str
    title: str
    key: str
    screen: type[SectionScreen]
    description: str


SECTIONS: tuple[Section, ...] = (
    Section("dashboard", "Dashboard", "1", DashboardScreen,
            "Workspace, counts, the twelve controls and the audit chain"),
    Section("controls", "Controls", "2", ControlsScreen,
            "The twelve controls: objective, guidance, owner, status, narrative"),
    Section("regulations", "Regulations", "3", RegulationsScreen,
            "Regulations clause by clause, their mappings, imports and version diffs"),
    Section("audit", "Audit log", "4", AuditLogScreen,
            "Every change, newest first; verify the hash chain"),
    Section("mapping", "Mapping", "5", MappingScreen,
            "The clause × control matrix: map, review, find gaps, see a control's clauses"),
    Section("evidence", "Evidence", "6", EvidenceScreen,
            "Evidence with status and expiry: attach, version, link, test, export"),
    Section("systems", "Systems", "7", SystemsScreen,
            "The AI system inventory: tier, role, models, risks and history"),
    Section("risks", "Risks", "8", RisksScreen,
            "The risk register: levels, heat map, trends; score, treat, accept, link"),
    Section("playbooks", "Playbooks", "9", PlaybooksScreen,
            "Incident playbooks: detection, steps, escalation and regulatory clocks"),
    Section("exercises", "Exercises", "0", ExercisesScreen,
            "Tabletop exercises: run one with timed injects and clocks; after-action"),
    Section("export", "Export", "E", ExportScreen,
            "The auditor's files: traceability matrix (CSV, XLSX, PDF), audit dossier (PDF)"),
)
