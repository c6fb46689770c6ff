"""Rules of the duplicate-field category."""
