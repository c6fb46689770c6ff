"""stackaudit's benchmarks (issue 9): what a pull costs against each vendor's rate-limit floor, and what the audit,
the report and the diff cost as a stack grows.

    python -m benchmarks                      # connectors at S and M, pipeline at 10k and 100k fields
    python -m benchmarks --sizes S M L XL --fields 10000 100000 300000 --latency 0.1 --json out.json

Modules: ``stacks`` (the synthetic stacks at sizes S to XL), ``floor`` (the least time a vendor's limits allow for
a number of calls), ``connectors`` (each connector against its fake server with real limits and latency, and the
naive strategy's cost beside it), ``pipeline`` (snapshot load, audit, report, diff at 10k to 300k fields),
``markdown`` (the tables of BENCHMARKS.md), ``report_bench`` (the report in headless chromium and the 300-tool
diagram). Nothing here runs at import time; every measurement runs in a child process so its peak memory is its own.
"""
