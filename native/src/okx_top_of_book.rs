//! The OKX `bbo-tbt` fast path: a push of one entry turned into the Kafka key and the encoded
//! canonical `BestBidOffer`, byte for byte what the Python parser and encoder give; any other
//! frame, and any push this path cannot map exactly, returns None for the Python parser.

use pyo3::prelude::*;

use crate::attached_books::KeyAndEvent;
use crate::okx_book_messages::top_of_book;
use crate::timestamps::NS_PER_MS;
use crate::top_of_book_path::{QuotedTop, TopOfBookPath};

/// OKX bbo-tbt pushes → `(key, encoded BestBidOffer)`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct OkxTopOfBook {
    path: TopOfBookPath,
}

#[pymethods]
impl OkxTopOfBook {
    /// `resolve_symbol(inst_id, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { path: TopOfBookPath::new(exchange, resolve_symbol) }
    }

    /// `(key, encoded BestBidOffer)` of a bbo-tbt push, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> Option<KeyAndEvent<'py>> {
        let top = top_of_book(frame)?;
        let quoted = QuotedTop {
            bid: top.bid,
            ask: top.ask,
            exchange_ts_ns: Some(i128::from(top.ts_ms) * NS_PER_MS),
            sequence: top.seq_id.map(i128::from),
        };
        self.path.event(py, top.inst_id, ("", ""), &quoted, receive_ts_ns)
    }
}
