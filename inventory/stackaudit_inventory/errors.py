"""Errors of the inventory layer.

StackauditError                 base of every error the project raises on purpose (the CLI prints it as one line)
 └── InputError                 a user-supplied file or value is wrong (exit code 2)
      └── SnapshotError         a snapshot file is unreadable, corrupt, or from a newer schema
"""

from __future__ import annotations

__all__ = ["InputError", "SnapshotError", "StackauditError"]


class StackauditError(Exception):
    """Base of the project's own errors. ``str(err)`` is one line naming the file, key or connector."""

    exit_code = 2


class InputError(StackauditError):
    """A file or value the user supplied is invalid."""


class SnapshotError(InputError):
    """A snapshot file could not be loaded."""
