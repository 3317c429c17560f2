"""Local exchange simulator: real exchange protocols over a simulated market, for development, tests and benchmarks.

Start one from Python with :class:`SimulatorThread` (synchronous code, tests) or
:class:`Simulator` (inside an event loop), or from the shell with
``tradeplat simulate``; read what it emitted and received from its
:class:`GroundTruth`; inject faults with :class:`FaultSpec`; replay recorded
traffic with :class:`ReplayServer`. See ``docs/simulator.md``.
"""

from platform_streams.simulator.config import (
    DEFAULT_API_KEY,
    DEFAULT_API_PASSPHRASE,
    DEFAULT_API_SECRET,
    BinanceRestLimits,
    BinanceSettings,
    KrakenSettings,
    OkxSettings,
    SimulatorConfig,
    WebSocketLimits,
)
from platform_streams.simulator.faults import FaultError, FaultKind, FaultSpec
from platform_streams.simulator.ground_truth import EmittedEvents, FaultRecord, GroundTruth, OrderArrival
from platform_streams.simulator.matching.accounts import AccountSpec
from platform_streams.simulator.replay import ReplayServer, load_recording
from platform_streams.simulator.server import Simulator, SimulatorThread, run_simulator
from platform_streams.simulator.venue_protocol import VenueUrls

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_PASSPHRASE",
    "DEFAULT_API_SECRET",
    "AccountSpec",
    "BinanceRestLimits",
    "BinanceSettings",
    "EmittedEvents",
    "FaultError",
    "FaultKind",
    "FaultRecord",
    "FaultSpec",
    "GroundTruth",
    "KrakenSettings",
    "OkxSettings",
    "OrderArrival",
    "ReplayServer",
    "Simulator",
    "SimulatorConfig",
    "SimulatorThread",
    "VenueUrls",
    "WebSocketLimits",
    "load_recording",
    "run_simulator",
]
