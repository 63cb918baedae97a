"""The JSON Schema of the vector file format (``vectors-v2.schema.json``), package
data."""
