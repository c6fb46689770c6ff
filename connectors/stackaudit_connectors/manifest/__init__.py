"""The manifest connector."""
