"""The simulator's HTTP control API (its own port): inject and clear faults, list connections, read the ground truth.

    POST   /_control/faults                 a FaultSpec as JSON → {"id": 3}
    GET    /_control/faults                 faults in force
    DELETE /_control/faults[/{id}]          end one fault, or all → {"cleared": [3]}
    GET    /_control/connections            open WebSocket connections and their ids
    GET    /_control/ground_truth/summary   messages per exchange and channel, orders, fault actions
    GET    /_control/ground_truth/faults    every fault action (?exchange=okx&kind=gap)
    GET    /_control/ground_truth/orders    every order request as it arrived (?exchange=okx), arrival_ns included
    POST   /_control/ground_truth/emits_before  [[exchange, symbol, before_ns], ...] → {"emit_ns": [ns or null, ...]}:
                                            the last message of each symbol emitted at or before that time
    PUT    /_control/order_flow             {"rate": 10000} → the order-flow rate over all exchanges from now on
    GET    /_control/order_flow             {"rate": ..., "lag_s": ..., "max_lag_s": ...}: the rate asked for, and
                                            how far simulated time is behind real time (now, at worst): a
                                            simulator behind does not offer the rate asked for
    GET    /_control/urls                   where each exchange listens
    GET    /_control/accounts               per exchange, every account's balances and order log with fills

Errors are ``{"error": "..."}`` with HTTP 400 (bad fault) or 404 (unknown id).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import orjson
from aiohttp import web

from platform_streams.simulator.faults import FaultController, FaultError
from platform_streams.simulator.faults.spec import decode_spec
from platform_streams.simulator.ground_truth import GroundTruth, GroundTruthError
from platform_streams.simulator.venue_protocol import VenueUrls

PREFIX = "/_control"


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


class ControlApi:
    """Handlers of the control API over one run's fault controller and ground truth."""

    def __init__(
        self,
        faults: FaultController,
        ground_truth: GroundTruth,
        urls: Callable[[], dict[str, VenueUrls]],
        summary: Callable[[], dict[str, object]] | None = None,
        accounts: Callable[[], dict[str, object]] | None = None,
        set_order_flow_rate: Callable[[float], None] | None = None,
        order_flow_state: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self._set_order_flow_rate = set_order_flow_rate
        self._order_flow_state = order_flow_state
        self._accounts = accounts or dict
        self._faults = faults
        self._ground_truth = ground_truth
        self._urls = urls
        self._summary = summary or ground_truth.summary

    def application(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.post(f"{PREFIX}/faults", self.inject),
                web.get(f"{PREFIX}/faults", self.armed),
                web.delete(f"{PREFIX}/faults", self.clear),
                web.delete(f"{PREFIX}/faults/{{fault_id}}", self.clear),
                web.get(f"{PREFIX}/connections", self.connections),
                web.get(f"{PREFIX}/ground_truth/summary", self.summary),
                web.get(f"{PREFIX}/ground_truth/faults", self.fault_log),
                web.get(f"{PREFIX}/ground_truth/orders", self.order_log),
                web.post(f"{PREFIX}/ground_truth/emits_before", self.emits_before),
                web.get(f"{PREFIX}/urls", self.urls),
                web.put(f"{PREFIX}/order_flow", self.order_flow),
                web.get(f"{PREFIX}/order_flow", self.order_flow_now),
                web.get(f"{PREFIX}/accounts", self.accounts),
            ]
        )
        return app

    async def inject(self, request: web.Request) -> web.Response:
        try:
            fault_id = self._faults.inject(decode_spec(await request.read()))
        except FaultError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"id": fault_id})

    async def armed(self, request: web.Request) -> web.Response:
        return _json({"armed": self._faults.armed()})

    async def clear(self, request: web.Request) -> web.Response:
        text = request.match_info.get("fault_id")
        if text is None:
            return _json({"cleared": self._faults.clear()})
        if not text.isdigit():
            return _json({"error": f"fault id {text!r} is not a number"}, 400)
        cleared = self._faults.clear(int(text))
        return _json({"cleared": cleared}) if cleared else _json({"error": f"no fault {text} in force"}, 404)

    async def connections(self, request: web.Request) -> web.Response:
        return _json({"connections": self._faults.connections()})

    async def summary(self, request: web.Request) -> web.Response:
        return _json(self._summary())

    async def fault_log(self, request: web.Request) -> web.Response:
        records = self._ground_truth.faults(request.query.get("exchange"), request.query.get("kind"))
        return _json({"faults": [dataclasses.asdict(record) for record in records]})

    async def order_log(self, request: web.Request) -> web.Response:
        arrivals = self._ground_truth.orders(request.query.get("exchange"))
        return _json({"orders": [dataclasses.asdict(arrival) for arrival in arrivals]})

    async def emits_before(self, request: web.Request) -> web.Response:
        try:
            queries = [(str(e), str(s), int(t)) for e, s, t in orjson.loads(await request.read())]
            return _json({"emit_ns": self._ground_truth.last_emits_before(queries)})
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            return _json({"error": f"expected [[exchange, symbol, before_ns], ...]: {exc}"}, 400)
        except GroundTruthError as exc:
            return _json({"error": str(exc)}, 400)

    async def order_flow(self, request: web.Request) -> web.Response:
        if self._set_order_flow_rate is None:
            return _json({"error": "this simulator has no order flow to change (a replay)"}, 400)
        try:
            rate = float(orjson.loads(await request.read())["rate"])
            self._set_order_flow_rate(rate)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            return _json({"error": f'expected {{"rate": <order-flow events per second, >= 0>}}: {exc}'}, 400)
        return _json({"rate": rate})

    async def order_flow_now(self, request: web.Request) -> web.Response:
        if self._order_flow_state is None:
            return _json({"error": "this simulator has no order flow (a replay)"}, 400)
        return _json(self._order_flow_state())

    async def accounts(self, request: web.Request) -> web.Response:
        return _json(self._accounts())

    async def urls(self, request: web.Request) -> web.Response:
        return _json({name: {"rest": u.rest, "websocket": u.websocket} for name, u in self._urls().items()})
