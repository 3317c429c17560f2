//! The canonical `Trade` event (`platform_streams.schemas.events.Trade`, tag `"trade.1"`) in its
//! wire form: a msgpack array, tag first, written byte for byte as msgspec writes it
//! (the smallest integer and string forms), so both encoders give identical bytes.

/// The fields, in wire order, after the tag, exchange and symbol (those are the same for every
/// trade of a symbol: see [`event_prefix`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalTrade {
    pub exchange_ts_ns: i128,
    pub receive_ts_ns: i64,
    pub sequence: i128,
    pub trade_id: String,
    pub side: Side,
    pub price: i64,
    pub size: i64,
    pub price_scale: u32,
    pub size_scale: u32,
}

/// The aggressor side of a trade, encoded as `Side`'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    fn value(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }
}

use crate::msgpack_wire::{self, write_int, write_str};
pub use crate::msgpack_wire::{MAX_WIRE_INT, MIN_WIRE_INT};

const TAG: &str = "trade.1";
const FIELD_COUNT: usize = 12;

/// The bytes every trade of one instrument starts with: array header, tag, exchange, symbol.
pub fn event_prefix(exchange: &str, symbol: &str) -> Vec<u8> {
    msgpack_wire::event_prefix(TAG, FIELD_COUNT, exchange, symbol)
}

/// The encoded event: `prefix` (from [`event_prefix`]) followed by the trade's own fields.
/// Integers must be within [`MIN_WIRE_INT`]..=[`MAX_WIRE_INT`]: the mapping checks (a panic otherwise).
pub fn encode(prefix: &[u8], trade: &CanonicalTrade) -> Vec<u8> {
    let mut event = Vec::with_capacity(prefix.len() + 64);
    event.extend_from_slice(prefix);
    write_int(&mut event, trade.exchange_ts_ns);
    write_int(&mut event, i128::from(trade.receive_ts_ns));
    write_int(&mut event, trade.sequence);
    write_str(&mut event, &trade.trade_id);
    write_str(&mut event, trade.side.value());
    write_int(&mut event, i128::from(trade.price));
    write_int(&mut event, i128::from(trade.size));
    write_int(&mut event, i128::from(trade.price_scale));
    write_int(&mut event, i128::from(trade.size_scale));
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().fold(String::new(), |text, byte| text + &format!("{byte:02x}"))
    }

    #[test]
    fn a_trade_encodes_as_msgspec_encodes_it() {
        // msgspec: encode(Trade("binance", "BTC/USDT", 1, 2, 3, "3", Side.SELL, 5, 6, 8, 8)).hex()
        let trade = CanonicalTrade {
            exchange_ts_ns: 1,
            receive_ts_ns: 2,
            sequence: 3,
            trade_id: "3".to_owned(),
            side: Side::Sell,
            price: 5,
            size: 6,
            price_scale: 8,
            size_scale: 8,
        };
        let encoded = encode(&event_prefix("binance", "BTC/USDT"), &trade);
        assert_eq!(hex(&encoded), "9ca774726164652e31a762696e616e6365a84254432f55534454010203a133a473656c6c05060808");
    }
}
