"""The manifest connector: the team's declared stack (``stack.yaml``) as an inventory fragment.

``config`` holds the connector's config, ``schema`` the manifest's format (its field descriptions are the
reference), ``parse`` the pure transforms and cross-reference checks, ``connector`` the file reading and the
source run.
"""
