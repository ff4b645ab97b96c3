"""Crosswalk: an offline evidence and regulatory-mapping workbench for ML governance."""

__version__ = "0.1.0"
