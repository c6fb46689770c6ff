"""Rules of the broken-sync category."""
