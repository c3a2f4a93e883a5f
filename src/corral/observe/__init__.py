"""Observability: error log set-up (logsetup) and the access log (accesslog).

Import the submodules directly; this package stays empty so importing it is free.
"""
