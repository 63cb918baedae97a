"""devicetwin: the twin. Pure computation, no I/O.

``devicetwin.heart`` plays the patient; ``devicetwin.pacemaker`` is the executable reference
specification of a pacemaker.
"""

from devicetwin._version import __version__
from devicetwin.errors import DeviceTwinError

__all__ = ["DeviceTwinError", "__version__"]
