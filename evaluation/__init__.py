"""The evaluation harness: held-out questions, labelled sets, the naive baseline, bitext."""
