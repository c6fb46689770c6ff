"""Rules of the orphaned-field category."""
