"""Pure rules of the workbench: controls, clause refs and the audit chain. No I/O, no Textual."""
