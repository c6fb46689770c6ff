"""The audit engine: rule base class and registry, settings, waivers, and ``run_audit``.

Import from the submodules (``stackaudit.audit.engine.run_audit``, ``stackaudit.audit.registry``...); this
package imports nothing at load so that ``stackaudit --help`` never pays for the rule catalogue.
"""
