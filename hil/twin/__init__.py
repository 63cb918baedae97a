"""The patient's twin on the bench side: importers that de-identify, the session folder, the
HTML report and the ``devicetwin twin`` command (docs/twin.md)."""
