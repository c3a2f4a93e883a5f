"""The benchmark harness of corral: every peer server, every scenario, one command.

``python bench/run.py --help``; see bench/README.md.
"""
