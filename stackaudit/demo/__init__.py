"""The bundled demo company, Northwind Analytics: its config, manifest, waivers and mappings live in ``data/``."""
