"""The one write path: every change to a workspace goes through a function here, which writes
in one transaction and appends its audit events to the hash chain in the same transaction.
The CLI and the TUI call these functions and never touch tables."""
