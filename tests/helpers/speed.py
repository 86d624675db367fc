"""The speed markers, in one place: tests/conftest.py marks every test with one of them by what it
uses, and tests/test_speed_markers.py checks that it did."""

MARKERS = ("unit", "integration", "e2e")
