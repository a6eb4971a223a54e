"""T21: hypothesis fuzzing of every form (tests/fuzz/harness.py holds the shared machinery)."""
