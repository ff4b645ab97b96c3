"""Screens: one per section, plus dialogs."""
