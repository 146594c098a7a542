"""Hotline: ticket dispatch and SLA tracking for city transport hotlines."""
