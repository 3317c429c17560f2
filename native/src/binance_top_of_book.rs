//! The Binance `bookTicker` fast path: a combined-stream `bookTicker` frame (`{"stream":
//! "btcusdt@bookTicker", "data": {"u": …, "s": "BTCUSDT", "b": …, "B": …, "a": …, "A": …}}`)
//! turned into the Kafka key and the encoded canonical `BestBidOffer`, byte for byte what the
//! Python parser and encoder give. Any other frame, and any bookTicker this path cannot map
//! exactly, returns None for the Python parser, which reports what is wrong.

use pyo3::prelude::*;
use serde::Deserialize;

use crate::attached_books::KeyAndEvent;
use crate::timestamps::NS_PER_MS;
use crate::top_of_book_path::{QuotedTop, TopOfBookPath};

#[derive(Deserialize)]
struct Combined<'a> {
    #[serde(borrow)]
    data: BookTicker<'a>,
}

#[derive(Deserialize)]
struct BookTicker<'a> {
    u: i64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(borrow)]
    b: &'a str,
    #[serde(borrow, rename = "B")]
    bid_quantity: &'a str,
    #[serde(borrow)]
    a: &'a str,
    #[serde(borrow, rename = "A")]
    ask_quantity: &'a str,
    #[serde(default, rename = "E")]
    event_time: i64,
}

/// The bookTicker of a combined-stream frame, or None.
fn book_ticker(frame: &[u8]) -> Option<BookTicker<'_>> {
    let head = &frame[..frame.len().min(64)];
    if !frame.starts_with(b"{\"stream\":\"") || !head.windows(19).any(|window| window == b"@bookTicker\",\"data\"") {
        return None;
    }
    serde_json::from_slice::<Combined<'_>>(frame).ok().map(|combined| combined.data)
}

/// Binance bookTicker frames → `(key, encoded BestBidOffer)`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct BinanceTopOfBook {
    path: TopOfBookPath,
}

#[pymethods]
impl BinanceTopOfBook {
    /// `resolve_symbol(exchange_symbol, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { path: TopOfBookPath::new(exchange, resolve_symbol) }
    }

    /// `(key, encoded BestBidOffer)` of a bookTicker frame, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> Option<KeyAndEvent<'py>> {
        let ticker = book_ticker(frame)?;
        let top = QuotedTop {
            bid: (ticker.b, ticker.bid_quantity),
            ask: (ticker.a, ticker.ask_quantity),
            // spot bookTicker carries no time: the receive time, as the parser gives it
            exchange_ts_ns: (ticker.event_time != 0).then(|| i128::from(ticker.event_time) * NS_PER_MS),
            sequence: Some(i128::from(ticker.u)),
        };
        self.path.event(py, ticker.s, (ticker.b, ticker.bid_quantity), &top, receive_ts_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_ticker_gives_its_fields_and_other_frames_none() {
        let frame = br#"{"stream":"apteth@bookTicker","data":{"u":5713787017,"s":"APTETH","b":"0.00266660","B":"64.80000000","a":"0.00266670","A":"406.50000000"}}"#;
        let ticker = book_ticker(frame).expect("a bookTicker");
        assert_eq!(
            (ticker.u, ticker.s, ticker.b, ticker.ask_quantity, ticker.event_time),
            (5_713_787_017, "APTETH", "0.00266660", "406.50000000", 0)
        );
        assert!(book_ticker(br#"{"stream":"apteth@trade","data":{"e":"trade"}}"#).is_none());
        assert!(book_ticker(br#"{"stream":"apteth@bookTicker","data":{"u":1,"s":"APTETH","b":"1"}}"#).is_none());
        assert!(book_ticker(br#"{"u":1,"s":"APTETH","b":"1","B":"1","a":"1","A":"1"}"#).is_none());
    }
}
