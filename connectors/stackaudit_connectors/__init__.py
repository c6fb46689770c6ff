"""stackaudit connectors."""
