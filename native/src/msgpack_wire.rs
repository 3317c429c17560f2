//! msgpack's wire forms as msgspec writes them: the smallest integer and string forms, and array
//! headers, so events encoded here are byte for byte what `platform_streams.schemas.encode` gives.

/// The range of integers the wire format carries: msgpack int64 and uint64.
pub const MIN_WIRE_INT: i128 = i64::MIN as i128;
pub const MAX_WIRE_INT: i128 = u64::MAX as i128;

/// The bytes every canonical event of one instrument starts with: the header of its array of
/// `field_count` items, its tag, exchange and symbol (msgspec's array-like structs, tag first).
pub fn event_prefix(tag: &str, field_count: usize, exchange: &str, symbol: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(3 + tag.len() + exchange.len() + symbol.len());
    write_array_header(&mut prefix, field_count);
    write_str(&mut prefix, tag);
    write_str(&mut prefix, exchange);
    write_str(&mut prefix, symbol);
    prefix
}

/// An array header for `length` items.
pub fn write_array_header(out: &mut Vec<u8>, length: usize) {
    if length < 16 {
        out.push(0x90 | length as u8); // fixarray
    } else if let Ok(short) = u16::try_from(length) {
        out.push(0xdc);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        let word = u32::try_from(length).expect("an array of more than 4 billion items");
        out.push(0xdd);
        out.extend_from_slice(&word.to_be_bytes());
    }
}

/// msgpack's smallest form of an integer, as msgspec chooses it: unsigned forms for
/// non-negative values, signed forms for negative ones.
pub fn write_int(out: &mut Vec<u8>, value: i128) {
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

pub fn write_str(out: &mut Vec<u8>, text: &str) {
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
    fn long_strings_take_the_str8_form() {
        let mut out = Vec::new();
        write_str(&mut out, &"a".repeat(32));
        assert_eq!(&out[..3], &[0xd9, 32, b'a']);
    }

    #[test]
    fn array_headers_take_msgspecs_forms() {
        // msgspec.msgpack.encode([0] * n)[:3].hex() for n = 15, 16, 65_536
        let header = |length| {
            let mut out = Vec::new();
            write_array_header(&mut out, length);
            hex(&out)
        };
        assert_eq!(header(15), "9f");
        assert_eq!(header(16), "dc0010");
        assert_eq!(header(65_536), "dd00010000");
    }
}
