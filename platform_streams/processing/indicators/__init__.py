"""The indicator library: each indicator one O(1) kernel, run per event by the processing daemon and
over polars frames by :mod:`platform_streams.processing.batch`."""

from platform_streams.processing.indicators.base import IndicatorParameterError
from platform_streams.processing.indicators.registry import INDICATORS, IndicatorSpec, ResolvedSpec, resolve, resolve_all

__all__ = ["INDICATORS", "IndicatorParameterError", "IndicatorSpec", "ResolvedSpec", "resolve", "resolve_all"]
