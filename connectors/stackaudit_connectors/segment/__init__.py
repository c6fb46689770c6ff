"""Segment: sources, destinations and the tools behind them, warehouses, tracking plans and delivery health."""
