"""Exporters: a read-only view model in, bytes out (matrices, dossiers, OSCAL). No database,
no Textual."""
