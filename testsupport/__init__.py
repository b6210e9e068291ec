"""What the tests and the benchmarks share: fakes, generated inputs, test
servers, the served app, and the small corpora several test modules use.
Never a test module nor a fixture (those stay in tests/ and its conftest.py
files); no test module imports another, and benchmarks/ import only this."""
