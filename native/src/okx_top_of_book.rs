//! The OKX `bbo-tbt` fast path: a push of one entry turned into the Kafka key and the encoded
//! canonical `BestBidOffer`, byte for byte what the Python parser and encoder give; any other
//! frame, and any push this path cannot map exactly, returns None for the Python parser.

use pyo3::prelude::*;

use crate::attached_books::{KeyAndEvent, PairTable};
use crate::canonical_top_of_book::{self, CanonicalTopOfBook};
use crate::decimal_text::mantissa_at_scale;
use crate::event_keys::EventKeys;
use crate::msgpack_wire::MAX_WIRE_INT;
use crate::okx_book_messages::top_of_book;

const NS_PER_MS: i128 = 1_000_000;

/// OKX bbo-tbt pushes → `(key, encoded BestBidOffer)`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct OkxTopOfBook {
    pairs: PairTable,
    events: EventKeys,
}

#[pymethods]
impl OkxTopOfBook {
    /// `resolve_symbol(inst_id, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self {
            pairs: PairTable::new(resolve_symbol),
            events: EventKeys::new(exchange, canonical_top_of_book::event_prefix),
        }
    }

    /// `(key, encoded BestBidOffer)` of a bbo-tbt push, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(top) = top_of_book(frame) else {
            return Ok(None);
        };
        let Some(scales) = self.pairs.resolve(py, top.inst_id, ("", "")) else {
            return Ok(None);
        };
        let prices = |text| mantissa_at_scale(text, scales.price_scale).ok();
        let sizes = |text| mantissa_at_scale(text, scales.size_scale).ok();
        let (Some(bid_price), Some(bid_size), Some(ask_price), Some(ask_size)) =
            (prices(top.bid.0), sizes(top.bid.1), prices(top.ask.0), sizes(top.ask.1))
        else {
            return Ok(None);
        };
        let exchange_ts_ns = i128::from(top.ts_ms) * NS_PER_MS;
        if exchange_ts_ns > MAX_WIRE_INT {
            return Ok(None);
        }
        let receive = i128::from(receive_ts_ns);
        let event = CanonicalTopOfBook {
            exchange_ts_ns,
            receive_ts_ns: receive,
            sequence: top.seq_id.map_or(receive, i128::from),
            bid_price,
            bid_size,
            ask_price,
            ask_size,
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        Ok(Some(self.events.key_and_event(py, &scales.symbol, |prefix| canonical_top_of_book::encode(prefix, &event))))
    }
}
