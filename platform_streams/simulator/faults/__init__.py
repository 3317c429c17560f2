"""Faults on demand: dropped, stalled and slow connections, gaps, duplicates, reordering, corrupt frames, maintenance.

:class:`FaultController` is the Python API, ``control_api`` the HTTP one; both
record every action in the ground truth (``GroundTruth.faults()``).
"""

from platform_streams.simulator.faults.controller import FaultController
from platform_streams.simulator.faults.spec import FaultError, FaultKind, FaultSpec

__all__ = ["FaultController", "FaultError", "FaultKind", "FaultSpec"]
