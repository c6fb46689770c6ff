"""Placeholder replaced by the manifest connector implementation."""
