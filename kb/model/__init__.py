"""The embedding model: converting the bundled weights, loading them, the ONNX export."""
