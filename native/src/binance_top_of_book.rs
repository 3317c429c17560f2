//! The Binance `bookTicker` fast path: a combined-stream `bookTicker` frame (`{"stream":
//! "btcusdt@bookTicker", "data": {"u": …, "s": "BTCUSDT", "b": …, "B": …, "a": …, "A": …}}`)
//! turned into the Kafka key and the encoded canonical `BestBidOffer`, byte for byte what the
//! Python parser and encoder give. Any other frame, and any bookTicker this path cannot map
//! exactly, returns None for the Python parser, which reports what is wrong.

use pyo3::prelude::*;
use serde::Deserialize;

use crate::attached_books::{KeyAndEvent, PairTable};
use crate::canonical_top_of_book::{self, CanonicalTopOfBook};
use crate::decimal_text::mantissa_at_scale;
use crate::event_keys::EventKeys;
use crate::msgpack_wire::MAX_WIRE_INT;

const NS_PER_MS: i128 = 1_000_000;

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
    pairs: PairTable,
    events: EventKeys,
}

#[pymethods]
impl BinanceTopOfBook {
    /// `resolve_symbol(exchange_symbol, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self {
            pairs: PairTable::new(resolve_symbol),
            events: EventKeys::new(exchange, canonical_top_of_book::event_prefix),
        }
    }

    /// `(key, encoded BestBidOffer)` of a bookTicker frame, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(ticker) = book_ticker(frame) else {
            return Ok(None);
        };
        let Some(scales) = self.pairs.resolve(py, ticker.s, (ticker.b, ticker.bid_quantity)) else {
            return Ok(None);
        };
        let prices = |text| mantissa_at_scale(text, scales.price_scale).ok();
        let sizes = |text| mantissa_at_scale(text, scales.size_scale).ok();
        let (Some(bid_price), Some(bid_size), Some(ask_price), Some(ask_size)) =
            (prices(ticker.b), sizes(ticker.bid_quantity), prices(ticker.a), sizes(ticker.ask_quantity))
        else {
            return Ok(None);
        };
        let receive = i128::from(receive_ts_ns);
        let exchange_ts_ns = if ticker.event_time != 0 { i128::from(ticker.event_time) * NS_PER_MS } else { receive };
        if !(i128::from(i64::MIN)..=MAX_WIRE_INT).contains(&exchange_ts_ns) {
            return Ok(None);
        }
        let top = CanonicalTopOfBook {
            exchange_ts_ns,
            receive_ts_ns: receive,
            sequence: i128::from(ticker.u),
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
