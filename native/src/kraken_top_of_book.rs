//! The Kraken v1 `ticker` fast path: a ticker frame turned into the Kafka key and the encoded
//! canonical `BestBidOffer` (best bid and ask with their lot volumes; the ticker has no time or
//! sequence, so both are the receive time), byte for byte what the Python parser and encoder give.

use pyo3::prelude::*;

use crate::attached_books::KeyAndEvent;
use crate::kraken_messages::{TICKER, Ticker, channel_payload};
use crate::top_of_book_path::{QuotedTop, TopOfBookPath};

/// Kraken v1 ticker frames → `(key, encoded BestBidOffer)`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct KrakenTopOfBook {
    path: TopOfBookPath,
}

#[pymethods]
impl KrakenTopOfBook {
    /// `resolve_symbol(pair, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { path: TopOfBookPath::new(exchange, resolve_symbol) }
    }

    /// `(key, encoded BestBidOffer)` of a ticker frame, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> Option<KeyAndEvent<'py>> {
        let (payload, pair) = channel_payload(frame, TICKER)?;
        let ticker = serde_json::from_str::<Ticker<'_>>(payload.get()).ok()?;
        // the ticker has neither time nor sequence: the receive time stands in for both
        let top = QuotedTop {
            bid: (ticker.b.0, ticker.b.2),
            ask: (ticker.a.0, ticker.a.2),
            exchange_ts_ns: None,
            sequence: None,
        };
        self.path.event(py, pair, top.bid, &top, receive_ts_ns)
    }
}
