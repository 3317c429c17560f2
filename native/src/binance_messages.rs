//! Binance spot `trade` and `aggTrade` frames, raw (`/ws`) and combined (`/stream`): their fields.
//!
//! [`trade_fields`] reads a frame in Binance's own byte layout with `binance_layout` and any other
//! layout with the general JSON reader here, which takes a frame only in the shapes Binance
//! sends: a combined frame starting `{"stream":"<name>@trade"` or `...@aggTrade"`, or a raw
//! event starting `{"e":"trade",` or `{"e":"aggTrade",`. Inside the object any key order,
//! spacing, escapes and extra keys are fine, and integers are read as msgspec reads an `int`
//! (any size; a fraction or an exponent is not an integer). Anything else, or anything these
//! shapes refuse (a missing field, a float id, a duplicated key, malformed JSON), is "not
//! taken": the Python parser (msgspec) then decides what the frame is, so JSON is judged by
//! one decoder only.

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_json::value::RawValue;

use crate::binance_layout::trade_fields_in_binance_layout;

/// What the canonical `Trade` needs from a `trade` or `aggTrade` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeFields<'a> {
    pub exchange_symbol: Cow<'a, str>,
    /// `t` (trade id) or `a` (aggregate trade id).
    pub trade_id: JsonInteger<'a>,
    pub price: Cow<'a, str>,
    pub quantity: Cow<'a, str>,
    /// `T`, milliseconds since the epoch.
    pub trade_time_ms: JsonInteger<'a>,
    pub buyer_is_maker: bool,
}

const COMBINED_PREFIX: &[u8] = br#"{"stream":""#;
const RAW_TRADE_PREFIX: &[u8] = br#"{"e":"trade","#;
const RAW_AGG_TRADE_PREFIX: &[u8] = br#"{"e":"aggTrade","#;

/// The trade in `frame`, or None when the frame is not a trade frame in a shape this module takes.
pub fn trade_fields(frame: &[u8]) -> Option<TradeFields<'_>> {
    trade_fields_in_binance_layout(frame).or_else(|| trade_fields_in_any_layout(frame))
}

/// As [`trade_fields`], through the general JSON reader (any key order, spacing and escapes).
pub fn trade_fields_in_any_layout(frame: &[u8]) -> Option<TradeFields<'_>> {
    if let Some(after_prefix) = frame.strip_prefix(COMBINED_PREFIX) {
        let stream_name = &after_prefix[..after_prefix.iter().position(|&byte| byte == b'"')?];
        if stream_name.ends_with(b"@trade") {
            return serde_json::from_slice::<CombinedFrame<TradeMessage>>(frame).ok()?.data.into_fields();
        }
        if stream_name.ends_with(b"@aggTrade") {
            return serde_json::from_slice::<CombinedFrame<AggTradeMessage>>(frame).ok()?.data.into_fields();
        }
        return None;
    }
    if frame.starts_with(RAW_TRADE_PREFIX) {
        return serde_json::from_slice::<TradeMessage>(frame).ok()?.into_fields();
    }
    if frame.starts_with(RAW_AGG_TRADE_PREFIX) {
        return serde_json::from_slice::<AggTradeMessage>(frame).ok()?.into_fields();
    }
    None
}

/// `{"stream": ..., "data": <event>}`; the stream name only chose the event type.
#[derive(Deserialize)]
struct CombinedFrame<Event> {
    data: Event,
}

/// `<symbol>@trade`. Every field Binance sends is required, as the Python message struct
/// requires it, including those the canonical trade does not carry (`E`).
#[derive(Deserialize)]
struct TradeMessage<'a> {
    #[serde(rename = "e", borrow)]
    event_type: Cow<'a, str>,
    #[serde(rename = "E", borrow)]
    _event_time: JsonInteger<'a>,
    #[serde(rename = "s", borrow)]
    symbol: Cow<'a, str>,
    #[serde(rename = "t", borrow)]
    trade_id: JsonInteger<'a>,
    #[serde(rename = "p", borrow)]
    price: Cow<'a, str>,
    #[serde(rename = "q", borrow)]
    quantity: Cow<'a, str>,
    #[serde(rename = "T", borrow)]
    trade_time: JsonInteger<'a>,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
}

impl<'a> TradeMessage<'a> {
    fn into_fields(self) -> Option<TradeFields<'a>> {
        (self.event_type == "trade").then_some(TradeFields {
            exchange_symbol: self.symbol,
            trade_id: self.trade_id,
            price: self.price,
            quantity: self.quantity,
            trade_time_ms: self.trade_time,
            buyer_is_maker: self.buyer_is_maker,
        })
    }
}

/// `<symbol>@aggTrade`: trades of one taker order at one price (`f`..`l`), aggregated.
#[derive(Deserialize)]
struct AggTradeMessage<'a> {
    #[serde(rename = "e", borrow)]
    event_type: Cow<'a, str>,
    #[serde(rename = "E", borrow)]
    _event_time: JsonInteger<'a>,
    #[serde(rename = "s", borrow)]
    symbol: Cow<'a, str>,
    #[serde(rename = "a", borrow)]
    agg_trade_id: JsonInteger<'a>,
    #[serde(rename = "p", borrow)]
    price: Cow<'a, str>,
    #[serde(rename = "q", borrow)]
    quantity: Cow<'a, str>,
    #[serde(rename = "f", borrow)]
    _first_trade_id: JsonInteger<'a>,
    #[serde(rename = "l", borrow)]
    _last_trade_id: JsonInteger<'a>,
    #[serde(rename = "T", borrow)]
    trade_time: JsonInteger<'a>,
    #[serde(rename = "m")]
    buyer_is_maker: bool,
}

impl<'a> AggTradeMessage<'a> {
    fn into_fields(self) -> Option<TradeFields<'a>> {
        (self.event_type == "aggTrade").then_some(TradeFields {
            exchange_symbol: self.symbol,
            trade_id: self.agg_trade_id,
            price: self.price,
            quantity: self.quantity,
            trade_time_ms: self.trade_time,
            buyer_is_maker: self.buyer_is_maker,
        })
    }
}

/// A JSON integer literal, as written (`-?digits`: no fraction or exponent, any size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonInteger<'a> {
    pub text: &'a str,
}

impl JsonInteger<'_> {
    /// The value, or None past the 128-bit integers (far outside any range the mapping accepts).
    pub fn value(self) -> Option<i128> {
        self.text.parse().ok()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonInteger<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <&'a RawValue>::deserialize(deserializer)?.get();
        let digits = text.strip_prefix('-').unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(de::Error::custom("expected an integer"));
        }
        Ok(JsonInteger { text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRADE: &[u8] = br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;

    #[test]
    fn combined_and_raw_trade_frames() {
        let fields = trade_fields(TRADE).expect("a trade");
        assert_eq!(fields.exchange_symbol, "BTCUSDT");
        assert_eq!(
            (fields.trade_id.value(), fields.trade_time_ms.value()),
            (Some(3_735_683_259), Some(1_723_161_255_342))
        );
        assert!(fields.buyer_is_maker);
        assert_eq!((fields.price.as_ref(), fields.quantity.as_ref()), ("61837.63000000", "0.02000000"));
        let raw = br#"{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}"#;
        assert_eq!(trade_fields(raw), Some(fields));
    }

    #[test]
    fn agg_trade_frames_and_escaped_text() {
        let frame = br#"{"stream":"zilusdt@aggTrade","data":{"m":false,"e":"aggTrade","E":1,"s":"ZIL\u0055SDT","a":18938405,"p":"0.21448000","q":"2062.90000000","f":1,"l":2,"T":1617647603483}}"#;
        let fields = trade_fields(frame).expect("an aggregate trade");
        assert_eq!(
            (fields.exchange_symbol.as_ref(), fields.trade_id.text, fields.buyer_is_maker),
            ("ZILUSDT", "18938405", false)
        );
    }

    #[test]
    fn integers_of_any_size_are_taken_as_written() {
        let frame = br#"{"e":"trade","E":-0, "s":"BTCUSDT","t": 123456789012345678901234567890123456789012,"p":"1","q":"1","T":-5,"m":true}"#;
        let fields = trade_fields(frame).expect("a trade");
        assert_eq!(fields.trade_id.text, "123456789012345678901234567890123456789012");
        assert_eq!((fields.trade_id.value(), fields.trade_time_ms.value()), (None, Some(-5)));
    }

    #[test]
    fn other_frames_and_other_shapes_are_not_taken() {
        let not_taken: [&[u8]; 9] = [
            br#"{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1","B":"1","a":"1","A":"1"}}"#,
            br#"{"stream":"btcusdt@trade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1.0,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1e3,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":"1","p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"t":2,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1}"#,
            br#"{"data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true},"stream":"btcusdt@trade"}"#,
            &TRADE[..TRADE.len() - 1],
        ];
        for frame in not_taken {
            assert_eq!(trade_fields(frame), None, "{}", String::from_utf8_lossy(frame));
        }
    }
}
