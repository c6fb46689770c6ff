"""Rules of the unused-tool category."""
