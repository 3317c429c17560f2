"""The replay server: one port per exchange in the recording, plus the control API, on one event loop.

``async with ReplayServer(load_recording([path]), speed=10) as replay:`` then connect
to ``replay.urls["okx"].websocket + "/ws/v5/public"`` (any path the recording used)
and request REST paths it recorded. Faults work as on the simulator
(``replay.faults``, or the HTTP control API at ``replay.control_url``).
:func:`run_replay` is what ``tradeplat simulate --replay`` calls.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

from aiohttp import web

from platform_streams.simulator.control_api import ControlApi
from platform_streams.simulator.faults import FaultController
from platform_streams.simulator.faults.frame_inspection import FRAME_READERS
from platform_streams.simulator.faults.injector import ExchangeFaults
from platform_streams.simulator.faults.maintenance import maintenance_middleware
from platform_streams.simulator.ground_truth import GroundTruth
from platform_streams.simulator.replay.recording import Recording, ReplayError
from platform_streams.simulator.replay.sources import load_recording
from platform_streams.simulator.replay.venue import ReplayVenue
from platform_streams.simulator.venue_protocol import VenueUrls

log = logging.getLogger(__name__)


class ReplayServer:
    """Serves a :class:`Recording` over each exchange's own endpoints."""

    def __init__(
        self,
        recording: Recording,
        speed: float = 1.0,
        host: str = "127.0.0.1",
        ports: dict[str, int] | None = None,
        control_port: int = 0,
        first_message_wait_s: float = 2.0,
    ) -> None:
        if speed < 0:
            raise ReplayError(f"speed must be 0 (as fast as possible) or positive, got {speed}")
        unknown = [name for name in recording.exchanges if name not in FRAME_READERS]
        if unknown:
            raise ReplayError(f"cannot replay {unknown}: known exchanges are {sorted(FRAME_READERS)}")
        self.recording = recording
        self.speed = speed
        self.host = host
        self._ports = ports or {}
        self._control_port = control_port
        self.ground_truth = GroundTruth()
        injectors = {name: ExchangeFaults(name, FRAME_READERS[name], self.ground_truth) for name in recording.exchanges}
        self.faults = FaultController(injectors, seed=0)
        self.venues = {
            name: ReplayVenue(
                name,
                recording.connections_of(name),
                recording.rest_of(name),
                speed,
                injectors[name],
                first_message_wait_s,
            )
            for name in recording.exchanges
        }
        self.urls: dict[str, VenueUrls] = {}
        self.control_url = ""
        self._runners: list[web.AppRunner] = []

    async def start(self) -> None:
        for name, venue in self.venues.items():
            application = venue.application()
            application.middlewares.insert(0, maintenance_middleware(self.faults.exchanges[name]))
            port = await self._serve(application, self._ports.get(name, 0))
            self.urls[name] = VenueUrls(name, rest=f"http://{self.host}:{port}", websocket=f"ws://{self.host}:{port}")
        control = ControlApi(self.faults, self.ground_truth, lambda: self.urls, self.summary)
        self.control_url = f"http://{self.host}:{await self._serve(control.application(), self._control_port)}/_control"

    async def _serve(self, application: web.Application, port: int) -> int:
        runner = web.AppRunner(application, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.host, port, reuse_address=True).start()
        return int(runner.addresses[0][1])

    async def stop(self) -> None:
        self.faults.shutdown()
        for venue in self.venues.values():
            venue.close_connections()
        for runner in self._runners:
            await runner.cleanup()
        self._runners = []

    async def __aenter__(self) -> ReplayServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def summary(self) -> dict[str, object]:
        return {"speed": self.speed, "exchanges": {name: venue.summary() for name, venue in self.venues.items()}}


def run_replay(
    paths: Sequence[Path],
    speed: float,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    print_line: Callable[[str], None] = print,
) -> int:
    """Replay ``paths`` in the foreground until SIGINT/SIGTERM; prints every exchange's URLs once listening."""
    recording = load_recording(paths)
    asyncio.run(_serve_forever(ReplayServer(recording, speed, host, ports), print_line))
    return 0


async def _serve_forever(server: ReplayServer, print_line: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    try:
        speed = "as fast as possible" if server.speed == 0 else f"{server.speed:g}x"
        print_line(
            f"replay: {len(server.recording.connections)} recorded connections, {len(server.recording.rest)} REST bodies, {speed}"
        )
        for name, urls in server.urls.items():
            summary = server.venues[name].summary()
            print_line(
                f"  {name:<8} REST {urls.rest}   WS {urls.websocket}/<recorded path>   "
                f"({summary['recorded_connections']} connections, {summary['recorded_frames']} frames)"
            )
        print_line(f"  control  {server.control_url}/ground_truth/summary")
        print_line("Ctrl-C stops it.")
        await stop.wait()
    finally:
        await server.stop()
