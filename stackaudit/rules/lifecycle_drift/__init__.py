"""Rules of the lifecycle-drift category."""
