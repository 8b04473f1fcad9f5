"""cheatsheet: offline exam prep for the Machine Perception course."""

__version__ = "0.1.0"
