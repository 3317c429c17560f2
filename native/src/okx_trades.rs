//! The OKX trade fast path: a `trades` push of one trade (`{"arg": {"channel": "trades", ...},
//! "data": [{"instId": "BTC-USDT", "tradeId": "130639474", "px": "42219.9", "sz": "0.12",
//! "side": "buy", "ts": "1630048897897"}]}`) turned into the Kafka key and the encoded canonical
//! `Trade`, byte for byte what the Python parser and encoder give. Pushes of several trades, and
//! any trade this path cannot map exactly, return None for the Python parser.

use pyo3::prelude::*;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::attached_books::{KeyAndEvent, PairTable};
use crate::canonical_trade::{self, CanonicalTrade, MAX_WIRE_INT, Side};
use crate::decimal_text::mantissa_at_scale;
use crate::event_keys::EventKeys;
use crate::timestamps::NS_PER_MS;

#[derive(Deserialize)]
struct Push<'a> {
    #[serde(borrow)]
    arg: Arg<'a>,
    #[serde(borrow)]
    data: Vec<TradeEntry<'a>>,
    #[serde(default)]
    event: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Arg<'a> {
    #[serde(borrow)]
    channel: &'a str,
}

#[derive(Deserialize)]
struct TradeEntry<'a> {
    #[serde(borrow, rename = "instId")]
    inst_id: &'a str,
    #[serde(borrow, rename = "tradeId")]
    trade_id: &'a str,
    #[serde(borrow)]
    px: &'a str,
    #[serde(borrow)]
    sz: &'a str,
    #[serde(borrow)]
    side: &'a str,
    #[serde(borrow)]
    ts: &'a str,
}

/// The one trade of a `trades` push, or None.
fn one_trade(frame: &[u8]) -> Option<TradeEntry<'_>> {
    if !frame.starts_with(br#"{"arg":{"channel":"trades""#) {
        return None;
    }
    let push: Push<'_> = serde_json::from_slice(frame).ok()?;
    if push.event.is_some() || push.arg.channel != "trades" {
        return None;
    }
    let [trade] = <[TradeEntry<'_>; 1]>::try_from(push.data).ok()?;
    Some(trade)
}

/// Digits only (ASCII), as a wire integer; None otherwise.
fn digits_value(text: &str, times: i128) -> Option<i128> {
    if text.is_empty() || text.len() > 30 || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse::<i128>().ok()?.checked_mul(times).filter(|&value| value <= MAX_WIRE_INT)
}

/// OKX trades → `(key, encoded Trade)`; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct OkxTradeParser {
    pairs: PairTable,
    events: EventKeys,
}

#[pymethods]
impl OkxTradeParser {
    /// `resolve_symbol(inst_id, price_text, size_text)` as for the other fast paths.
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { pairs: PairTable::new(resolve_symbol), events: EventKeys::new(exchange, canonical_trade::event_prefix) }
    }

    /// `(key, encoded Trade)` of a push of one trade, or None (the Python parser takes it).
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(trade) = one_trade(frame) else {
            return Ok(None);
        };
        let Some(scales) = self.pairs.resolve(py, trade.inst_id, ("", "")) else {
            return Ok(None);
        };
        let side = match trade.side {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            _ => return Ok(None),
        };
        let (Ok(price), Ok(size)) =
            (mantissa_at_scale(trade.px, scales.price_scale), mantissa_at_scale(trade.sz, scales.size_scale))
        else {
            return Ok(None);
        };
        let Some(exchange_ts_ns) = digits_value(trade.ts, NS_PER_MS) else {
            return Ok(None);
        };
        // the Python parser's rule: a trade id of digits is the sequence, any other id gives 0
        let is_digits = !trade.trade_id.is_empty() && trade.trade_id.bytes().all(|byte| byte.is_ascii_digit());
        let sequence = if is_digits {
            digits_value(trade.trade_id, 1)
        } else if trade.trade_id.is_ascii() {
            Some(0)
        } else {
            None
        };
        let Some(sequence) = sequence else {
            return Ok(None); // too large, or non-ASCII text Python's isdigit may read otherwise
        };
        let canonical = CanonicalTrade {
            exchange_ts_ns,
            receive_ts_ns,
            sequence,
            trade_id: trade.trade_id.to_owned(),
            side,
            price,
            size,
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        Ok(Some(self.events.key_and_event(py, &scales.symbol, |prefix| canonical_trade::encode(prefix, &canonical))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_of_one_trade_is_read_and_others_are_not() {
        let frame = br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897"}]}"#;
        let trade = one_trade(frame).expect("a trade");
        assert_eq!(
            (trade.inst_id, trade.trade_id, trade.px, trade.side, trade.ts),
            ("BTC-USDT", "130639474", "42219.9", "buy", "1630048897897")
        );
        let two = br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"1","px":"1","sz":"1","side":"buy","ts":"1"},{"instId":"BTC-USDT","tradeId":"2","px":"1","sz":"1","side":"buy","ts":"1"}]}"#;
        assert!(one_trade(two).is_none());
        assert!(
            one_trade(br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT"}]}"#).is_none()
        );
        assert_eq!(digits_value("1630048897897", NS_PER_MS), Some(1_630_048_897_897_000_000));
        assert_eq!(
            (digits_value("", 1), digits_value("1.5", 1), digits_value("99999999999999999999", 1)),
            (None, None, None)
        );
    }
}
