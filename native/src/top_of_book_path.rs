//! What the top-of-book fast paths share once a venue's frame is read: the pair's scales, the four
//! texts as exact mantissas, the canonical `BestBidOffer` and its key. None when anything has no
//! exact value, so the Python parser reads (and reports) that frame.

use pyo3::prelude::*;

use crate::attached_books::{KeyAndEvent, PairTable};
use crate::canonical_top_of_book::{self, CanonicalTopOfBook};
use crate::decimal_text::mantissa_at_scale;
use crate::event_keys::EventKeys;
use crate::msgpack_wire::MAX_WIRE_INT;

/// A best bid and ask as the venue writes them: `(price, size)` texts.
pub struct QuotedTop<'a> {
    pub bid: (&'a str, &'a str),
    pub ask: (&'a str, &'a str),
    /// The exchange's time in ns, None where it sends none (the receive time stands in).
    pub exchange_ts_ns: Option<i128>,
    /// The exchange's sequence, None where it sends none (the receive time stands in).
    pub sequence: Option<i128>,
}

/// One venue's pair scales and event keys for its tops of book.
pub struct TopOfBookPath {
    pairs: PairTable,
    events: EventKeys,
}

impl TopOfBookPath {
    /// `resolve_symbol(pair, price_text, size_text)` as for the other fast paths.
    pub fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self {
            pairs: PairTable::new(resolve_symbol),
            events: EventKeys::new(exchange, canonical_top_of_book::event_prefix),
        }
    }

    /// `(key, encoded BestBidOffer)` of `top` for `pair` (its scales resolved from `texts`), or None.
    pub fn event<'py>(
        &mut self,
        py: Python<'py>,
        pair: &str,
        texts: (&str, &str),
        top: &QuotedTop<'_>,
        receive_ts_ns: i64,
    ) -> Option<KeyAndEvent<'py>> {
        let scales = self.pairs.resolve(py, pair, texts)?;
        let prices = |text| mantissa_at_scale(text, scales.price_scale).ok();
        let sizes = |text| mantissa_at_scale(text, scales.size_scale).ok();
        let receive = i128::from(receive_ts_ns);
        let exchange_ts_ns = top.exchange_ts_ns.unwrap_or(receive);
        if !(i128::from(i64::MIN)..=MAX_WIRE_INT).contains(&exchange_ts_ns) {
            return None;
        }
        let event = CanonicalTopOfBook {
            exchange_ts_ns,
            receive_ts_ns: receive,
            sequence: top.sequence.unwrap_or(receive),
            bid_price: prices(top.bid.0)?,
            bid_size: sizes(top.bid.1)?,
            ask_price: prices(top.ask.0)?,
            ask_size: sizes(top.ask.1)?,
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        Some(self.events.key_and_event(py, &scales.symbol, |prefix| canonical_top_of_book::encode(prefix, &event)))
    }
}
