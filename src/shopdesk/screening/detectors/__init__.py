"""Detectors per rule family; each yields `Finding`s with original offsets."""
