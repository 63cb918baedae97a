"""Bench measurements from digitizer captures and the ISO 14708-2-style measurement suite.

- :mod:`hil.measure.waveform`: pulses, amplitudes, width, intervals, AV interval, energy and
  charge, each with its uncertainty from the instrument settings (pure NumPy).
- :mod:`hil.measure.signals`: the ISO 14708-2 triangular test pulse and trains of it.
- :mod:`hil.measure.suite`: the measurement suite over a :class:`VisaBench`.
- :mod:`hil.measure.report`: JUnit cases and the HTML section.

See ``docs/measurements.md``.
"""
