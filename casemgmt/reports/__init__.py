"""Dashboards, indicators, charts, the quarterly report and exports."""
