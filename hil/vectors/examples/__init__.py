"""Example inputs for the vector importers."""
