"""Incident-response data shipped with Crosswalk: the regulatory clocks (`clocks.yaml`), read
by `app.domain.reg_clocks`."""
