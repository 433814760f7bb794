"""Tests of the lessons in demos/ that need more than a tiny run."""
