//! The Kraken v1 `trade` fast path: a trade frame (one or more trades) turned into the Kafka key
//! and the encoded canonical `Trade` of each, in frame order, byte for byte what the Python parser
//! and encoder give (Kraken v1 has no trade id: the id is `<time>-<position in frame>`, the
//! sequence 0). A frame with any trade this path cannot map exactly returns None for the parser.

use pyo3::prelude::*;
use pyo3::types::{PyList, PyString};

use crate::attached_books::PairTable;
use crate::canonical_trade::{self, CanonicalTrade, MAX_WIRE_INT, Side};
use crate::decimal_text::mantissa_at_scale;
use crate::event_keys::EventKeys;
use crate::kraken_book_messages::seconds_text_to_ns;
use crate::kraken_messages::{TRADE, TradeEntry, channel_payload, trade_entries};

/// Kraken v1 trade frames → `(key, [encoded Trade, ...])`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct KrakenTradeParser {
    pairs: PairTable,
    events: EventKeys,
}

type KeyAndEvents<'py> = (Py<PyString>, Bound<'py, PyList>);

#[pymethods]
impl KrakenTradeParser {
    /// `resolve_symbol(pair, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { pairs: PairTable::new(resolve_symbol), events: EventKeys::new(exchange, canonical_trade::event_prefix) }
    }

    /// `(key, [encoded Trade, ...])` of a trade frame, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> PyResult<Option<KeyAndEvents<'py>>> {
        let Some((payload, pair)) = channel_payload(frame, TRADE) else {
            return Ok(None);
        };
        let Some(entries) = trade_entries(payload).filter(|entries| !entries.is_empty()) else {
            return Ok(None);
        };
        let Some(scales) = self.pairs.resolve(py, pair, (entries[0].price, entries[0].volume)) else {
            return Ok(None);
        };
        let (price_scale, size_scale) = (scales.price_scale, scales.size_scale);
        let Some(trades) = entries
            .iter()
            .enumerate()
            .map(|(position, entry)| canonical(entry, position, price_scale, size_scale, receive_ts_ns))
            .collect::<Option<Vec<_>>>()
        else {
            return Ok(None);
        };
        let symbol = scales.symbol.clone();
        let mut key = None;
        let mut encoded = Vec::with_capacity(trades.len());
        for trade in &trades {
            let (trade_key, event) =
                self.events.key_and_event(py, &symbol, |prefix| canonical_trade::encode(prefix, trade));
            key.get_or_insert(trade_key);
            encoded.push(event);
        }
        let key = key.expect("a frame with trades gives at least one");
        Ok(Some((key, PyList::new(py, encoded)?)))
    }
}

fn canonical(
    entry: &TradeEntry<'_>,
    position: usize,
    price_scale: u32,
    size_scale: u32,
    receive_ts_ns: i64,
) -> Option<CanonicalTrade> {
    let side = match entry.side {
        "b" => Side::Buy,
        "s" => Side::Sell,
        _ => return None,
    };
    let exchange_ts_ns = i128::try_from(seconds_text_to_ns(entry.time)?).ok().filter(|&ns| ns <= MAX_WIRE_INT)?;
    Some(CanonicalTrade {
        exchange_ts_ns,
        receive_ts_ns,
        sequence: 0,
        trade_id: format!("{}-{position}", entry.time),
        side,
        price: mantissa_at_scale(entry.price, price_scale).ok()?,
        size: mantissa_at_scale(entry.volume, size_scale).ok()?,
        price_scale,
        size_scale,
    })
}
