//! The Kraken v1 `ticker` fast path: a ticker frame turned into the Kafka key and the encoded
//! canonical `BestBidOffer` (best bid and ask with their lot volumes; the ticker has no time or
//! sequence, so both are the receive time), byte for byte what the Python parser and encoder give.

use pyo3::prelude::*;

use crate::attached_books::{KeyAndEvent, PairTable};
use crate::canonical_top_of_book::{self, CanonicalTopOfBook};
use crate::decimal_text::mantissa_at_scale;
use crate::event_keys::EventKeys;
use crate::kraken_messages::{Ticker, channel_payload};

/// Kraken v1 ticker frames → `(key, encoded BestBidOffer)`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct KrakenTopOfBook {
    pairs: PairTable,
    events: EventKeys,
}

#[pymethods]
impl KrakenTopOfBook {
    /// `resolve_symbol(pair, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self {
            pairs: PairTable::new(resolve_symbol),
            events: EventKeys::new(exchange, canonical_top_of_book::event_prefix),
        }
    }

    /// `(key, encoded BestBidOffer)` of a ticker frame, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some((payload, pair)) = channel_payload(frame, "ticker") else {
            return Ok(None);
        };
        let Ok(ticker) = serde_json::from_str::<Ticker<'_>>(payload.get()) else {
            return Ok(None);
        };
        let Some(scales) = self.pairs.resolve(py, pair, (ticker.b.0, ticker.b.2)) else {
            return Ok(None);
        };
        let prices = |text| mantissa_at_scale(text, scales.price_scale).ok();
        let sizes = |text| mantissa_at_scale(text, scales.size_scale).ok();
        let (Some(bid_price), Some(bid_size), Some(ask_price), Some(ask_size)) =
            (prices(ticker.b.0), sizes(ticker.b.2), prices(ticker.a.0), sizes(ticker.a.2))
        else {
            return Ok(None);
        };
        let receive = i128::from(receive_ts_ns);
        let top = CanonicalTopOfBook {
            exchange_ts_ns: receive,
            receive_ts_ns: receive,
            sequence: receive,
            bid_price,
            bid_size,
            ask_price,
            ask_size,
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        Ok(Some(self.events.key_and_event(py, &scales.symbol, |prefix| canonical_top_of_book::encode(prefix, &top))))
    }
}
