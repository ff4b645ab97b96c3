"""Versioned schema: the DDL of each version, applied forward in order.

Why a small runner and not Alembic: a workspace is one SQLite file on one workstation with a
linear history, so all we need is "which version is this file, and which steps bring it to the
latest". The version lives in SQLite's own header (``PRAGMA user_version``), changes in the same
transaction as the DDL (SQLite DDL is transactional), and needs no extra table, no revision
graph and no import of Alembic on the start-up path. Each step is frozen SQL; the models in
`models.py` describe the latest version, and a test checks that a freshly migrated file and the
models agree column for column.
"""

from __future__ import annotations

# "CWWS" — marks an SQLite file as a Crosswalk workspace (PRAGMA application_id).
APPLICATION_ID = 0x43575753

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        """CREATE TABLE workspace (
            id VARCHAR NOT NULL PRIMARY KEY,
            name VARCHAR NOT NULL,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL
        )""",
        """CREATE TABLE control (
            id VARCHAR NOT NULL PRIMARY KEY,
            position INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            category VARCHAR NOT NULL,
            objective VARCHAR NOT NULL,
            guidance VARCHAR NOT NULL,
            owner VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            narrative VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL,
            updated_by VARCHAR NOT NULL
        )""",
        """CREATE TABLE audit_event (
            seq INTEGER NOT NULL PRIMARY KEY,
            at VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            action VARCHAR NOT NULL,
            entity VARCHAR NOT NULL,
            entity_id VARCHAR NOT NULL,
            change VARCHAR NOT NULL,
            state_digest VARCHAR,
            prev_hash VARCHAR NOT NULL,
            hash VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_audit_entity ON audit_event (entity, entity_id)",
    ),
    2: (
        """CREATE TABLE regulation (
            id INTEGER NOT NULL PRIMARY KEY,
            code VARCHAR NOT NULL,
            version_label VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            jurisdiction VARCHAR NOT NULL,
            effective_date VARCHAR,
            source_name VARCHAR NOT NULL,
            source_sha256 VARCHAR NOT NULL,
            source_format VARCHAR NOT NULL,
            imported_at VARCHAR NOT NULL,
            CONSTRAINT uq_regulation_version UNIQUE (code, version_label)
        )""",
        """CREATE TABLE clause (
            id INTEGER NOT NULL PRIMARY KEY,
            regulation_id INTEGER NOT NULL REFERENCES regulation (id),
            parent_id INTEGER REFERENCES clause (id),
            ref VARCHAR NOT NULL,
            position INTEGER NOT NULL,
            kind VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            summary VARCHAR NOT NULL,
            assessable BOOLEAN NOT NULL,
            text_hash VARCHAR NOT NULL,
            CONSTRAINT uq_clause_ref UNIQUE (regulation_id, ref)
        )""",
        "CREATE INDEX ix_clause_parent ON clause (parent_id)",
    ),
    3: (
        "ALTER TABLE regulation ADD COLUMN short_title VARCHAR NOT NULL DEFAULT ''",
        "ALTER TABLE regulation ADD COLUMN identifiers VARCHAR NOT NULL DEFAULT '{}'",
        "ALTER TABLE regulation ADD COLUMN attribution VARCHAR NOT NULL DEFAULT ''",
        "ALTER TABLE clause ADD COLUMN attributes VARCHAR NOT NULL DEFAULT '{}'",
        """CREATE TABLE mapping (
            id INTEGER NOT NULL PRIMARY KEY,
            clause_id INTEGER NOT NULL REFERENCES clause (id),
            control_id VARCHAR NOT NULL REFERENCES control (id),
            relationship VARCHAR NOT NULL,
            matching VARCHAR NOT NULL,
            strength INTEGER NOT NULL,
            coverage VARCHAR NOT NULL,
            rationale VARCHAR NOT NULL,
            author VARCHAR NOT NULL,
            review_status VARCHAR NOT NULL,
            reviewed_by VARCHAR,
            reviewed_at VARCHAR,
            flag VARCHAR NOT NULL,
            created_at VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL,
            CONSTRAINT uq_mapping UNIQUE (clause_id, control_id)
        )""",
        "CREATE INDEX ix_mapping_control ON mapping (control_id)",
    ),
    4: (
        "ALTER TABLE regulation ADD COLUMN source_pages INTEGER",
    ),
    5: (
        "ALTER TABLE workspace ADD COLUMN expiring_days INTEGER NOT NULL DEFAULT 30",
        """CREATE TABLE evidence (
            id INTEGER NOT NULL PRIMARY KEY,
            title VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            description VARCHAR NOT NULL,
            classification VARCHAR NOT NULL,
            source_system VARCHAR NOT NULL,
            versions INTEGER NOT NULL,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL
        )""",
        """CREATE TABLE evidence_version (
            id INTEGER NOT NULL PRIMARY KEY,
            evidence_id INTEGER NOT NULL REFERENCES evidence (id),
            version INTEGER NOT NULL,
            sha256 VARCHAR NOT NULL,
            size INTEGER NOT NULL,
            media_type VARCHAR NOT NULL,
            original_name VARCHAR NOT NULL,
            collected_at VARCHAR NOT NULL,
            collected_by VARCHAR NOT NULL,
            period_from VARCHAR,
            period_to VARCHAR,
            valid_until VARCHAR,
            note VARCHAR NOT NULL,
            added_at VARCHAR NOT NULL,
            added_by VARCHAR NOT NULL,
            CONSTRAINT uq_evidence_version UNIQUE (evidence_id, version)
        )""",
        "CREATE INDEX ix_evidence_version_sha256 ON evidence_version (sha256)",
        """CREATE TABLE evidence_link (
            id INTEGER NOT NULL PRIMARY KEY,
            evidence_id INTEGER NOT NULL REFERENCES evidence (id),
            control_id VARCHAR REFERENCES control (id),
            clause_id INTEGER REFERENCES clause (id),
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            CONSTRAINT uq_evidence_link_control UNIQUE (evidence_id, control_id),
            CONSTRAINT uq_evidence_link_clause UNIQUE (evidence_id, clause_id)
        )""",
        "CREATE INDEX ix_evidence_link_control ON evidence_link (control_id)",
        "CREATE INDEX ix_evidence_link_clause ON evidence_link (clause_id)",
        """CREATE TABLE control_test (
            id INTEGER NOT NULL PRIMARY KEY,
            control_id VARCHAR NOT NULL REFERENCES control (id),
            procedure VARCHAR NOT NULL,
            population VARCHAR NOT NULL,
            sample_size INTEGER,
            result VARCHAR NOT NULL,
            exceptions VARCHAR NOT NULL,
            tester VARCHAR NOT NULL,
            tested_on VARCHAR NOT NULL,
            evidence_versions VARCHAR NOT NULL,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_control_test_control ON control_test (control_id)",
    ),
    6: (
        """CREATE TABLE ai_system (
            id INTEGER NOT NULL PRIMARY KEY,
            name VARCHAR NOT NULL,
            purpose VARCHAR NOT NULL,
            owner VARCHAR NOT NULL,
            lifecycle VARCHAR NOT NULL,
            tier VARCHAR NOT NULL,
            tier_justification VARCHAR NOT NULL,
            operator_role VARCHAR NOT NULL,
            annex_iii_area VARCHAR,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL,
            CONSTRAINT uq_ai_system_name UNIQUE (name)
        )""",
        """CREATE TABLE model_version (
            id INTEGER NOT NULL PRIMARY KEY,
            system_id INTEGER NOT NULL REFERENCES ai_system (id),
            version VARCHAR NOT NULL,
            approval_status VARCHAR NOT NULL,
            limitations VARCHAR NOT NULL,
            created_at VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL,
            CONSTRAINT uq_model_version UNIQUE (system_id, version)
        )""",
        """CREATE TABLE risk_matrix (
            id INTEGER NOT NULL PRIMARY KEY,
            code VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            name VARCHAR NOT NULL,
            definition VARCHAR NOT NULL,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            CONSTRAINT uq_risk_matrix UNIQUE (code, version)
        )""",
        """CREATE TABLE risk (
            id INTEGER NOT NULL PRIMARY KEY,
            title VARCHAR NOT NULL,
            cause VARCHAR NOT NULL,
            event VARCHAR NOT NULL,
            consequence VARCHAR NOT NULL,
            category VARCHAR NOT NULL,
            system_id INTEGER NOT NULL REFERENCES ai_system (id),
            owner VARCHAR NOT NULL,
            matrix_id INTEGER NOT NULL REFERENCES risk_matrix (id),
            inherent_likelihood INTEGER,
            inherent_impact INTEGER,
            current_likelihood INTEGER,
            current_impact INTEGER,
            residual_likelihood INTEGER,
            residual_impact INTEGER,
            knowledge VARCHAR NOT NULL,
            knowledge_justification VARCHAR NOT NULL,
            treatment VARCHAR NOT NULL,
            review_on VARCHAR,
            review_every_days INTEGER,
            accepted_by VARCHAR,
            acceptance_justification VARCHAR NOT NULL,
            acceptance_expires VARCHAR,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_risk_system ON risk (system_id)",
        """CREATE TABLE risk_score (
            id INTEGER NOT NULL PRIMARY KEY,
            risk_id INTEGER NOT NULL REFERENCES risk (id),
            matrix_id INTEGER NOT NULL REFERENCES risk_matrix (id),
            inherent_likelihood INTEGER,
            inherent_impact INTEGER,
            current_likelihood INTEGER,
            current_impact INTEGER,
            residual_likelihood INTEGER,
            residual_impact INTEGER,
            note VARCHAR NOT NULL,
            scored_at VARCHAR NOT NULL,
            scored_by VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_risk_score_risk ON risk_score (risk_id)",
        """CREATE TABLE risk_link (
            id INTEGER NOT NULL PRIMARY KEY,
            risk_id INTEGER NOT NULL REFERENCES risk (id),
            control_id VARCHAR REFERENCES control (id),
            clause_id INTEGER REFERENCES clause (id),
            evidence_id INTEGER REFERENCES evidence (id),
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            CONSTRAINT uq_risk_link_control UNIQUE (risk_id, control_id),
            CONSTRAINT uq_risk_link_clause UNIQUE (risk_id, clause_id),
            CONSTRAINT uq_risk_link_evidence UNIQUE (risk_id, evidence_id)
        )""",
        "CREATE INDEX ix_risk_link_control ON risk_link (control_id)",
    ),
    7: (
        """CREATE TABLE playbook (
            id INTEGER NOT NULL PRIMARY KEY,
            slug VARCHAR NOT NULL,
            title VARCHAR NOT NULL,
            scenario VARCHAR NOT NULL,
            severity VARCHAR NOT NULL,
            definition VARCHAR NOT NULL,
            origin VARCHAR NOT NULL,
            source_name VARCHAR NOT NULL,
            notes VARCHAR NOT NULL,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL,
            CONSTRAINT uq_playbook_slug UNIQUE (slug)
        )""",
        """CREATE TABLE exercise (
            id INTEGER NOT NULL PRIMARY KEY,
            title VARCHAR NOT NULL,
            playbook_id INTEGER NOT NULL REFERENCES playbook (id),
            playbook_definition VARCHAR NOT NULL,
            scenario VARCHAR NOT NULL,
            scenario_name VARCHAR NOT NULL,
            starts_at VARCHAR NOT NULL,
            speed INTEGER NOT NULL,
            status VARCHAR NOT NULL,
            clock_ms INTEGER NOT NULL,
            running_since VARCHAR,
            started_at VARCHAR,
            closed_at VARCHAR,
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_exercise_playbook ON exercise (playbook_id)",
        """CREATE TABLE exercise_entry (
            id INTEGER NOT NULL PRIMARY KEY,
            exercise_id INTEGER NOT NULL REFERENCES exercise (id),
            at_ms INTEGER NOT NULL,
            kind VARCHAR NOT NULL,
            text VARCHAR NOT NULL,
            actor VARCHAR NOT NULL,
            inject VARCHAR,
            step INTEGER,
            clock VARCHAR,
            containment BOOLEAN NOT NULL,
            logged_at VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_exercise_entry_exercise ON exercise_entry (exercise_id)",
        """CREATE TABLE exercise_rating (
            id INTEGER NOT NULL PRIMARY KEY,
            exercise_id INTEGER NOT NULL REFERENCES exercise (id),
            objective VARCHAR NOT NULL,
            rating VARCHAR NOT NULL,
            strengths VARCHAR NOT NULL,
            improvements VARCHAR NOT NULL,
            rated_at VARCHAR NOT NULL,
            rated_by VARCHAR NOT NULL,
            CONSTRAINT uq_exercise_rating UNIQUE (exercise_id, objective)
        )""",
        """CREATE TABLE improvement_item (
            id INTEGER NOT NULL PRIMARY KEY,
            exercise_id INTEGER NOT NULL REFERENCES exercise (id),
            objective VARCHAR,
            action VARCHAR NOT NULL,
            owner VARCHAR NOT NULL,
            due_on VARCHAR NOT NULL,
            status VARCHAR NOT NULL,
            risk_id INTEGER REFERENCES risk (id),
            control_id VARCHAR REFERENCES control (id),
            created_at VARCHAR NOT NULL,
            created_by VARCHAR NOT NULL,
            updated_at VARCHAR NOT NULL
        )""",
        "CREATE INDEX ix_improvement_exercise ON improvement_item (exercise_id)",
        "CREATE INDEX ix_improvement_risk ON improvement_item (risk_id)",
        "CREATE INDEX ix_improvement_control ON improvement_item (control_id)",
    ),
    8: (
        """CREATE TABLE clause_scope (
            id INTEGER NOT NULL PRIMARY KEY,
            clause_id INTEGER NOT NULL REFERENCES clause (id),
            applicable BOOLEAN NOT NULL,
            justification VARCHAR NOT NULL,
            decided_at VARCHAR NOT NULL,
            decided_by VARCHAR NOT NULL,
            CONSTRAINT uq_clause_scope UNIQUE (clause_id)
        )""",
    ),
}

SCHEMA_VERSION = max(MIGRATIONS)


def steps(current: int, target: int = SCHEMA_VERSION) -> list[tuple[int, tuple[str, ...]]]:
    """The migrations that bring a file at version `current` to `target`, in order."""
    return [(v, MIGRATIONS[v]) for v in range(current + 1, target + 1)]


def expected_objects() -> set[tuple[str, str]]:
    """(type, name) of every table and index the latest schema has, from a scratch database."""
    import sqlite3

    con = sqlite3.connect(":memory:")
    try:
        for _, statements in steps(0):
            for sql in statements:
                con.execute(sql)
        return set(con.execute("SELECT type, name FROM sqlite_master"))
    finally:
        con.close()
