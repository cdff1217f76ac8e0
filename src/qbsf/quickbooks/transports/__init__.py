"""Transports: how a qbXML message reaches QuickBooks (simulator, Windows COM, Web Connector)."""

from qbsf.quickbooks.transports.base import Transport

__all__ = ["Transport"]
