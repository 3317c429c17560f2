//! Trade frames in the exact layout Binance writes them, read without a general JSON parser.
//!
//! Binance writes every trade event alike: no spaces, its keys in one order, integer literals,
//! strings without escapes, `"M"` last. Reading that layout byte by byte is several times faster
//! than a JSON parser. A frame that differs anywhere (another key order, a space, an escape, a
//! field added) is left to the general reader in `binance_messages`, which gives the same fields
//! for any layout; the event type `e` decides, as in the Python parser, not the stream name.

use std::borrow::Cow;

use crate::binance_messages::{JsonInteger, TradeFields};

/// The trade of a combined (`{"stream":...,"data":{...}}`) or raw frame in Binance's own layout, else None.
pub fn trade_fields_in_binance_layout(frame: &[u8]) -> Option<TradeFields<'_>> {
    let mut reader = LayoutReader { rest: frame };
    let combined = reader.literal(br#"{"stream":""#).is_some();
    if combined {
        reader.string()?;
        reader.literal(br#","data":"#)?;
    }
    let fields = if reader.literal(br#"{"e":"trade","E":"#).is_some() {
        reader.trade()?
    } else {
        reader.literal(br#"{"e":"aggTrade","E":"#)?;
        reader.agg_trade()?
    };
    if combined {
        reader.literal(b"}")?;
    }
    reader.rest.is_empty().then_some(fields)
}

/// The unread rest of a frame; every read either consumes what it matched or returns None.
struct LayoutReader<'a> {
    rest: &'a [u8],
}

impl<'a> LayoutReader<'a> {
    /// After `{"e":"trade","E":`: `E`, `s`, `t`, `p`, `q`, `T`, `m`, then `M` or the end.
    fn trade(&mut self) -> Option<TradeFields<'a>> {
        self.integer()?;
        let exchange_symbol = self.after(br#","s":""#, Self::string)?;
        let trade_id = self.after(br#","t":"#, Self::integer)?;
        let price = self.after(br#","p":""#, Self::string)?;
        let quantity = self.after(br#","q":""#, Self::string)?;
        let trade_time_ms = self.after(br#","T":"#, Self::integer)?;
        let buyer_is_maker = self.after(br#","m":"#, Self::boolean)?;
        self.end_of_event()?;
        Some(TradeFields {
            exchange_symbol: Cow::Borrowed(exchange_symbol),
            trade_id,
            price: Cow::Borrowed(price),
            quantity: Cow::Borrowed(quantity),
            trade_time_ms,
            buyer_is_maker,
        })
    }

    /// After `{"e":"aggTrade","E":`: `E`, `s`, `a`, `p`, `q`, `f`, `l`, `T`, `m`, then `M` or the end.
    fn agg_trade(&mut self) -> Option<TradeFields<'a>> {
        self.integer()?;
        let exchange_symbol = self.after(br#","s":""#, Self::string)?;
        let trade_id = self.after(br#","a":"#, Self::integer)?;
        let price = self.after(br#","p":""#, Self::string)?;
        let quantity = self.after(br#","q":""#, Self::string)?;
        self.after(br#","f":"#, Self::integer)?;
        self.after(br#","l":"#, Self::integer)?;
        let trade_time_ms = self.after(br#","T":"#, Self::integer)?;
        let buyer_is_maker = self.after(br#","m":"#, Self::boolean)?;
        self.end_of_event()?;
        Some(TradeFields {
            exchange_symbol: Cow::Borrowed(exchange_symbol),
            trade_id,
            price: Cow::Borrowed(price),
            quantity: Cow::Borrowed(quantity),
            trade_time_ms,
            buyer_is_maker,
        })
    }

    fn after<T>(&mut self, expected: &[u8], read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        self.literal(expected)?;
        read(self)
    }

    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        self.rest = self.rest.strip_prefix(expected)?;
        Some(())
    }

    /// `}` or `,"M":<bool>}` (Binance's "ignore" flag).
    fn end_of_event(&mut self) -> Option<()> {
        if self.literal(b"}").is_none() {
            self.literal(br#","M":"#)?;
            self.boolean()?;
            self.literal(b"}")?;
        }
        Some(())
    }

    /// The rest of a string whose opening quote was read: UTF-8 without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        let end = self.rest.iter().position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
        if self.rest[end] != b'"' {
            return None;
        }
        let text = std::str::from_utf8(&self.rest[..end]).ok()?;
        self.rest = &self.rest[end + 1..];
        Some(text)
    }

    /// A JSON integer literal: `-?(0|[1-9][0-9]*)`.
    fn integer(&mut self) -> Option<JsonInteger<'a>> {
        let sign = usize::from(self.rest.first() == Some(&b'-'));
        let digits = self.rest[sign..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 || (digits > 1 && self.rest[sign] == b'0') {
            return None;
        }
        let (text, rest) = self.rest.split_at(sign + digits);
        self.rest = rest;
        Some(JsonInteger { text: std::str::from_utf8(text).ok()? })
    }

    fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true").is_some() { Some(true) } else { self.literal(b"false").map(|()| false) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binance_messages::trade_fields_in_any_layout;

    const FRAMES: [&[u8]; 6] = [
        br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#,
        br#"{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":false,"M":true}"#,
        br#"{"stream":"zilusdt@aggTrade","data":{"e":"aggTrade","E":1617647603485,"s":"ZILUSDT","a":18938405,"p":"0.21448000","q":"2062.90000000","f":26105431,"l":26105431,"T":1617647603483,"m":false,"M":true}}"#,
        r#"{"e":"aggTrade","E":1,"s":"ÉTÉUSDT","a":-9223372036854775808,"p":"1","q":"","f":0,"l":-1,"T":0,"m":true}"#.as_bytes(),
        br#"{"e":"trade","E":1,"s":"BTCUSDT","t":123456789012345678901234567890,"p":"1","q":"1","T":1,"m":true}"#,
        br#"{"stream":"btcusdt@depth","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}"#,
    ];

    #[test]
    fn reads_what_the_general_reader_reads() {
        for frame in FRAMES {
            let fields = trade_fields_in_binance_layout(frame);
            assert!(fields.is_some(), "{}", String::from_utf8_lossy(frame));
            if !frame.starts_with(br#"{"stream":"btcusdt@depth""#) {
                assert_eq!(fields, trade_fields_in_any_layout(frame), "{}", String::from_utf8_lossy(frame));
            }
        }
    }

    #[test]
    fn leaves_any_other_layout_to_the_general_reader() {
        let other_layouts: [&[u8]; 10] = [
            br#"{"e":"trade","E":1, "s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","s":"BTCUSDT","E":1,"t":1,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTC\u0055SDT","t":1,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":01,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1.0,"p":"1","q":"1","T":1,"m":true}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true,"X":1}"#,
            br#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}
"#,
            br#"{"e":"trade","E":-,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}"#,
            b"{\"e\":\"trade\",\"E\":1,\"s\":\"BTC\xffUSDT\",\"t\":1,\"p\":\"1\",\"q\":\"1\",\"T\":1,\"m\":true}",
            br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}} "#,
        ];
        for frame in other_layouts {
            assert_eq!(trade_fields_in_binance_layout(frame), None, "{}", String::from_utf8_lossy(frame));
        }
    }
}
