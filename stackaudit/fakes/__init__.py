"""Fake vendor servers: real HTTP on loopback, following ../shared/api-reference, for tests, the demo and benchmarks.

They ship in the package (no test-only imports) because ``stackaudit demo`` serves recorded portals through them,
so the demo goes through the same connector code a real pull does, with no network and no credentials.
"""
