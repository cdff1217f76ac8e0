"""qbsf: two-way sync between Salesforce and QuickBooks Desktop."""

__version__ = "0.1.0"
