"""Gazal Desktop: an offline clinical-reasoning tutor. Educational use only - not a medical device."""

__version__ = "0.1.0"
