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

/// The range of integers the wire format carries: msgpack int64 and uint64.
pub const MIN_WIRE_INT: i128 = i64::MIN as i128;
pub const MAX_WIRE_INT: i128 = u64::MAX as i128;

const TAG: &str = "trade.1";
const FIELD_COUNT: u8 = 12;
const FIXARRAY: u8 = 0x90;

/// The bytes every trade of one instrument starts with: array header, tag, exchange, symbol.
pub fn event_prefix(exchange: &str, symbol: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(3 + TAG.len() + exchange.len() + symbol.len());
    prefix.push(FIXARRAY | FIELD_COUNT);
    write_str(&mut prefix, TAG);
    write_str(&mut prefix, exchange);
    write_str(&mut prefix, symbol);
    prefix
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

/// msgpack's smallest form of an integer, as msgspec chooses it: unsigned forms for
/// non-negative values, signed forms for negative ones.
fn write_int(out: &mut Vec<u8>, value: i128) {
    if let Ok(unsigned) = u64::try_from(value) {
        write_unsigned(out, unsigned);
    } else {
        let negative = i64::try_from(value).expect("integers are checked against the wire range before encoding");
        write_negative(out, negative);
    }
}

fn write_unsigned(out: &mut Vec<u8>, value: u64) {
    if let Ok(byte) = u8::try_from(value) {
        if byte < 0x80 {
            out.push(byte); // positive fixint
        } else {
            out.extend_from_slice(&[0xcc, byte]);
        }
    } else if let Ok(short) = u16::try_from(value) {
        out.push(0xcd);
        out.extend_from_slice(&short.to_be_bytes());
    } else if let Ok(word) = u32::try_from(value) {
        out.push(0xce);
        out.extend_from_slice(&word.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&value.to_be_bytes());
    }
}

fn write_negative(out: &mut Vec<u8>, value: i64) {
    if let Ok(byte) = i8::try_from(value) {
        if byte < -32 {
            out.push(0xd0);
        }
        out.extend_from_slice(&byte.to_be_bytes()); // alone: negative fixint
    } else if let Ok(short) = i16::try_from(value) {
        out.push(0xd1);
        out.extend_from_slice(&short.to_be_bytes());
    } else if let Ok(word) = i32::try_from(value) {
        out.push(0xd2);
        out.extend_from_slice(&word.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&value.to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, text: &str) {
    let length = text.len();
    if let Ok(byte) = u8::try_from(length) {
        if byte < 32 {
            out.push(0xa0 | byte); // fixstr
        } else {
            out.extend_from_slice(&[0xd9, byte]);
        }
    } else if let Ok(short) = u16::try_from(length) {
        out.push(0xda);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        let word = u32::try_from(length).expect("a symbol or trade id longer than 4 GiB");
        out.push(0xdb);
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().fold(String::new(), |text, byte| text + &format!("{byte:02x}"))
    }

    fn int_hex(value: i128) -> String {
        let mut out = Vec::new();
        write_int(&mut out, value);
        hex(&out)
    }

    #[test]
    fn integers_take_msgspecs_smallest_form() {
        // Expected bytes from msgspec.msgpack.encode(value).
        let cases: [(i128, &str); 14] = [
            (0, "00"),
            (127, "7f"),
            (128, "cc80"),
            (256, "cd0100"),
            (65_536, "ce00010000"),
            (4_294_967_296, "cf0000000100000000"),
            (MAX_WIRE_INT, "cfffffffffffffffff"),
            (-1, "ff"),
            (-32, "e0"),
            (-33, "d0df"),
            (-129, "d1ff7f"),
            (-32_769, "d2ffff7fff"),
            (-2_147_483_649, "d3ffffffff7fffffff"),
            (MIN_WIRE_INT, "d38000000000000000"),
        ];
        for (value, expected) in cases {
            assert_eq!(int_hex(value), expected, "{value}");
        }
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

    #[test]
    fn long_strings_take_the_str8_form() {
        let mut out = Vec::new();
        write_str(&mut out, &"a".repeat(32));
        assert_eq!(&out[..3], &[0xd9, 32, b'a']);
    }
}
