"""Markup escaping that holds for any text.

Textual's `escape` protects only a ``[`` that looks like the start of a tag and that is closed
by a ``]``. Its markup parser is more eager: ``[ b ]`` is read as a (vanishing) tag, and an
unclosed ``[bo…`` (a title cut short) swallows the ``[dim]`` that follows, so the ``[/]``
after it crashes the screen. This `escape` puts a backslash before every ``[`` — to Textual's
parser a ``[`` after a backslash is always text, and the one backslash is dropped — and leaves
other backslashes alone (Textual shows them as written).

A trailing backslash would escape the ``[`` of whatever markup follows it — so
``f"{escape(owner)}[dim]…[/]"`` with an owner ending in ``\\`` turns the ``[dim]`` into text,
and the ``[/]`` then crashes the screen. Markup has no way to escape a backslash itself, so
`escape` follows a trailing backslash with a zero-width space, which keeps the next tag a tag
and shows nothing.

This is for Textual markup (`Static`, `Label`, notifications, border titles, option lists).
Rich markup (a `Tree` label given as a ``str``) does not drop the backslash: build such labels
as `rich.text.Text` instead.
"""

from __future__ import annotations

ZERO_WIDTH_SPACE = "\u200b"


def escape(text: str) -> str:
    """`text` safe to put in Textual markup, whatever follows it."""
    out = text.replace("[", "\\[")
    if out.endswith("\\"):
        out += ZERO_WIDTH_SPACE
    return out
