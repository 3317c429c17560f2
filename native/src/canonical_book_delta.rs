//! The canonical `BookDelta` event (`platform_streams.schemas.events.BookDelta`, tag
//! `"book_delta.1"`) in its wire form: a msgpack array, tag first, written as msgspec writes it.

use crate::book_side::Level;
use crate::msgpack_wire::{self, write_array_header, write_int};

/// The fields after the tag, exchange and symbol, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalBookDelta {
    pub exchange_ts_ns: i128,
    pub receive_ts_ns: i128,
    pub sequence: i128,
    pub first_sequence: i128,
    pub prev_sequence: i128,
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub price_scale: u32,
    pub size_scale: u32,
}

const TAG: &str = "book_delta.1";
const FIELD_COUNT: usize = 12;

/// The bytes every delta of one instrument starts with: array header, tag, exchange, symbol.
pub fn event_prefix(exchange: &str, symbol: &str) -> Vec<u8> {
    msgpack_wire::event_prefix(TAG, FIELD_COUNT, exchange, symbol)
}

/// The encoded event: `prefix` (from [`event_prefix`]) and the delta's own fields. Integers must be
/// within the wire range (`msgpack_wire::MIN_WIRE_INT..=MAX_WIRE_INT`): callers check.
pub fn encode(prefix: &[u8], delta: &CanonicalBookDelta) -> Vec<u8> {
    let mut event = Vec::with_capacity(prefix.len() + 48 + 24 * (delta.bids.len() + delta.asks.len()));
    event.extend_from_slice(prefix);
    for value in [delta.exchange_ts_ns, delta.receive_ts_ns, delta.sequence, delta.first_sequence, delta.prev_sequence]
    {
        write_int(&mut event, value);
    }
    for levels in [&delta.bids, &delta.asks] {
        write_array_header(&mut event, levels.len());
        for level in levels {
            write_array_header(&mut event, 2);
            write_int(&mut event, level.price);
            write_int(&mut event, level.size);
        }
    }
    write_int(&mut event, i128::from(delta.price_scale));
    write_int(&mut event, i128::from(delta.size_scale));
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_encodes_as_msgspec_encodes_it() {
        // msgspec: encode(BookDelta("kraken", "XBT/USD", 1, 2, 3, 4, 0, [(5, 6)], [(7, 0), (300, 70000)], 1, 8)).hex()
        let delta = CanonicalBookDelta {
            exchange_ts_ns: 1,
            receive_ts_ns: 2,
            sequence: 3,
            first_sequence: 4,
            prev_sequence: 0,
            bids: vec![Level { price: 5, size: 6 }],
            asks: vec![Level { price: 7, size: 0 }, Level { price: 300, size: 70_000 }],
            price_scale: 1,
            size_scale: 8,
        };
        let encoded = encode(&event_prefix("kraken", "XBT/USD"), &delta);
        let hex = encoded.iter().fold(String::new(), |text, byte| text + &format!("{byte:02x}"));
        assert_eq!(
            hex,
            "9cac626f6f6b5f64656c74612e31a66b72616b656ea75842542f5553440102030400919205069292070092cd012cce000111700108"
        );
    }
}
