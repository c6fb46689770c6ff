"""Rules of the redundant-tool category."""
