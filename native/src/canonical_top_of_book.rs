//! The canonical `BestBidOffer` event (`platform_streams.schemas.events.BestBidOffer`, tag `"bbo.1"`)
//! in its wire form: a msgpack array, tag first, written as msgspec writes it.

use crate::msgpack_wire::{self, write_int};

/// The fields after the tag, exchange and symbol, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalTopOfBook {
    pub exchange_ts_ns: i128,
    pub receive_ts_ns: i128,
    pub sequence: i128,
    pub bid_price: i64,
    pub bid_size: i64,
    pub ask_price: i64,
    pub ask_size: i64,
    pub price_scale: u32,
    pub size_scale: u32,
}

const TAG: &str = "bbo.1";
const FIELD_COUNT: usize = 12;

/// The bytes every top of book of one instrument starts with: array header, tag, exchange, symbol.
pub fn event_prefix(exchange: &str, symbol: &str) -> Vec<u8> {
    msgpack_wire::event_prefix(TAG, FIELD_COUNT, exchange, symbol)
}

/// The encoded event; integers must be within the wire range (callers check).
pub fn encode(prefix: &[u8], top: &CanonicalTopOfBook) -> Vec<u8> {
    let mut event = Vec::with_capacity(prefix.len() + 64);
    event.extend_from_slice(prefix);
    for value in [top.exchange_ts_ns, top.receive_ts_ns, top.sequence] {
        write_int(&mut event, value);
    }
    for value in [top.bid_price, top.bid_size, top.ask_price, top.ask_size] {
        write_int(&mut event, i128::from(value));
    }
    write_int(&mut event, i128::from(top.price_scale));
    write_int(&mut event, i128::from(top.size_scale));
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_top_of_book_encodes_as_msgspec_encodes_it() {
        // msgspec: encode(BestBidOffer("binance", "BTC/USDT", 1, 2, 300, 5, 6, 7, 8, 8, 8)).hex()
        let top = CanonicalTopOfBook {
            exchange_ts_ns: 1,
            receive_ts_ns: 2,
            sequence: 300,
            bid_price: 5,
            bid_size: 6,
            ask_price: 7,
            ask_size: 8,
            price_scale: 8,
            size_scale: 8,
        };
        let encoded = encode(&event_prefix("binance", "BTC/USDT"), &top);
        let hex = encoded.iter().fold(String::new(), |text, byte| text + &format!("{byte:02x}"));
        assert_eq!(hex, EXPECTED);
    }

    const EXPECTED: &str = "9ca562626f2e31a762696e616e6365a84254432f555344540102cd012c050607080808";
}
