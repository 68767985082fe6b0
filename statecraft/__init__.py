"""Statecraft: a linked-data knowledge graph of international security relations."""

__version__ = "0.1.0"
