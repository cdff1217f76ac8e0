"""Emulators of QuickBooks Desktop and Salesforce for tests, benchmarks and the demo.

They import nothing from qbsf.sync or qbsf.app: they play the other side, not ours.
"""
