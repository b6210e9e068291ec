"""The ground floor: records, errors, settings, the text grammar, the model, the index format."""
