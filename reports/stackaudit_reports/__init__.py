"""stackaudit reports."""
