"""Emulated instruments: SCPI socket servers on loopback, a line analyzer on a pty, and the
emulated analog device between them (docs/instruments.md)."""
