"""Test helpers shared across the suite (fake model servers, fixtures)."""
