"""Golden vectors shared by the Python and C codecs (``golden.json``, ``make_golden.py``)."""
