//! The CRC32 checksums OKX and Kraken send with their books, rebuilt from a book's top levels.
//!
//! Both spell each level as text and take zlib's CRC32 of the whole string:
//!
//! - OKX: the best 25 bids and asks interleaved, `bid1Px:bid1Sz:ask1Px:ask1Sz:bid2Px:...` (a side
//!   with fewer levels just stops contributing), each value in its shortest decimal spelling
//!   (`30261`, `0.005`); compared as a signed 32-bit integer.
//! - Kraken v1: the best 10 asks then the best 10 bids, price then volume, each written with
//!   the pair's fixed number of decimals and then stripped of its dot and leading zeros
//!   (`0.05000` → `5000`); compared as an unsigned integer.
//!
//! The spelling rules are those of `platform_streams.exchanges.decimal_text` (`shortest_text`,
//! `digits_at_scale`), which the real recorded books of `tests/data/exchanges/` verify.

use std::fmt;

use crate::book_side::{BookSide, Level};
use crate::crc32::crc32;

pub const OKX_DEPTH: usize = 25;
pub const KRAKEN_DEPTH: usize = 10;

/// How far a scale may be from 0, or a text's decimals from its value's scale: a checksum
/// writes that many zeros at most per value, so the bound keeps a wrong scale from asking for
/// gigabytes. Exchanges use 0 to 18.
pub const MAX_SCALE: i64 = 1000;

/// A value that cannot be written with the decimals a checksum spells it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelTextError {
    /// Writing `mantissa`e-`scale` with `text_scale` decimals would drop a non-zero digit.
    Inexact { mantissa: i128, scale: i64, text_scale: i64 },
    /// A scale (or the distance between a value's scale and its text's) past [`MAX_SCALE`].
    ScaleOutOfRange { what: &'static str, scale: i64 },
}

impl fmt::Display for LevelTextError {
    /// The inexact case in the Python `FixedPointError` wording of `digits_at_scale`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Inexact { mantissa, scale, text_scale } => {
                write!(formatter, "{mantissa}e-{scale} cannot be written with {text_scale} decimals")
            }
            Self::ScaleOutOfRange { what, scale } => {
                write!(formatter, "{what} {scale} is outside -{MAX_SCALE}..={MAX_SCALE}")
            }
        }
    }
}

/// OKX's checksum of the book, as OKX compares it (a signed 32-bit integer).
pub fn okx_checksum(
    bids: &BookSide,
    asks: &BookSide,
    price_scale: i64,
    size_scale: i64,
) -> Result<i32, LevelTextError> {
    check_scale("price scale", price_scale)?;
    check_scale("size scale", size_scale)?;
    let mut text = Vec::with_capacity(2048);
    let mut write = |level: Level| {
        if !text.is_empty() {
            text.push(b':');
        }
        write_shortest(&mut text, level.price, price_scale);
        text.push(b':');
        write_shortest(&mut text, level.size, size_scale);
    };
    let (mut bids, mut asks) = (bids.top(OKX_DEPTH), asks.top(OKX_DEPTH));
    loop {
        match (bids.next(), asks.next()) {
            (None, None) => break,
            (bid, ask) => bid.into_iter().chain(ask).for_each(&mut write),
        }
    }
    // OKX compares the CRC32 as a signed 32-bit integer: the same bits, read as i32
    Ok(crc32(&text) as i32)
}

/// Kraken v1's checksum of the book, with prices and sizes written at the given decimals.
pub fn kraken_checksum(
    bids: &BookSide,
    asks: &BookSide,
    scales: (i64, i64),
    text_scales: (i64, i64),
) -> Result<u32, LevelTextError> {
    let ((price_scale, size_scale), (price_text_scale, size_text_scale)) = (scales, text_scales);
    check_scale("price scale", price_scale)?;
    check_scale("size scale", size_scale)?;
    check_scale("price text scale", price_text_scale)?;
    check_scale("size text scale", size_text_scale)?;
    let mut text = Vec::with_capacity(1024);
    for level in asks.top(KRAKEN_DEPTH).chain(bids.top(KRAKEN_DEPTH)) {
        write_digits_at_scale(&mut text, level.price, price_scale, price_text_scale)?;
        write_digits_at_scale(&mut text, level.size, size_scale, size_text_scale)?;
    }
    Ok(crc32(&text))
}

fn check_scale(what: &'static str, scale: i64) -> Result<(), LevelTextError> {
    if (-MAX_SCALE..=MAX_SCALE).contains(&scale) {
        Ok(())
    } else {
        Err(LevelTextError::ScaleOutOfRange { what, scale })
    }
}

/// Room for the digits and sign of any `i128`.
const DIGIT_BUFFER: usize = 40;
type DigitBuffer = [u8; DIGIT_BUFFER];

/// `"00010203…99"`: two digits at a time halve the divisions of the common (64-bit) case.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes `value` in decimal at the end of `buffer` and returns that text. The caller owns the
/// buffer, so the digits are read where they were written: moving a buffer out of here would
/// load bytes just stored, which the CPU cannot forward, and that cost more than the digits.
fn decimal_digits(value: i128, buffer: &mut DigitBuffer) -> &[u8] {
    let mut start = buffer.len();
    let mut magnitude = value.unsigned_abs();
    while magnitude > u128::from(u64::MAX) {
        start -= 1;
        buffer[start] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
    }
    let mut small = magnitude as u64; // fits: the loop above ran until it did
    let mut push_pair = |start: &mut usize, pair: u64| {
        *start -= 2;
        let pair = 2 * pair as usize;
        buffer[*start..*start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    };
    while small >= 100 {
        push_pair(&mut start, small % 100);
        small /= 100;
    }
    if small >= 10 {
        push_pair(&mut start, small);
    } else {
        start -= 1;
        buffer[start] = b'0' + small as u8;
    }
    if value < 0 {
        start -= 1;
        buffer[start] = b'-';
    }
    &buffer[start..]
}

fn push_zeros(text: &mut Vec<u8>, count: usize) {
    text.resize(text.len() + count, b'0');
}

fn count_trailing_zeros(digits: &[u8]) -> usize {
    digits.iter().rev().take_while(|&&digit| digit == b'0').count()
}

/// `shortest_text`: the shortest decimal spelling of `mantissa`e-`scale`, `(3026100, 2)` →
/// `30261`, `(5, 3)` → `0.005`, `(0, _)` → `0`. Book levels are never negative; a negative
/// mantissa (which no book holds) gets a leading minus sign.
fn write_shortest(text: &mut Vec<u8>, mantissa: i128, scale: i64) {
    if mantissa == 0 {
        text.push(b'0');
        return;
    }
    let mut buffer = [0; DIGIT_BUFFER];
    let digits = decimal_digits(mantissa, &mut buffer);
    if scale <= 0 {
        text.extend_from_slice(digits);
        push_zeros(text, scale.unsigned_abs() as usize);
        return;
    }
    let (sign, digits) = match digits.split_first() {
        Some((b'-', rest)) => (&b"-"[..], rest),
        _ => (&b""[..], digits),
    };
    text.extend_from_slice(sign);
    let scale = scale as usize;
    let fraction_end = digits.len() - count_trailing_zeros(digits); // the digits are not all zeros
    if digits.len() > scale {
        let point = digits.len() - scale;
        text.extend_from_slice(&digits[..point]);
        if fraction_end > point {
            text.push(b'.');
            text.extend_from_slice(&digits[point..fraction_end]);
        }
    } else {
        text.extend_from_slice(b"0.");
        push_zeros(text, scale - digits.len());
        text.extend_from_slice(&digits[..fraction_end]);
    }
}

/// `digits_at_scale`: the digits of `mantissa`e-`scale` written with `text_scale` decimals,
/// without the dot and leading zeros, `(35415, 2, 8)` → `35415000000`; refused when that would
/// drop a non-zero digit.
fn write_digits_at_scale(
    text: &mut Vec<u8>,
    mantissa: i128,
    scale: i64,
    text_scale: i64,
) -> Result<(), LevelTextError> {
    if mantissa == 0 {
        text.push(b'0');
        return Ok(());
    }
    let mut buffer = [0; DIGIT_BUFFER];
    let digits = decimal_digits(mantissa, &mut buffer);
    let shift = text_scale - scale;
    if shift >= 0 {
        text.extend_from_slice(digits);
        push_zeros(text, shift as usize);
        return Ok(());
    }
    let dropped = shift.unsigned_abs() as usize;
    if count_trailing_zeros(digits) < dropped {
        return Err(LevelTextError::Inexact { mantissa, scale, text_scale });
    }
    text.extend_from_slice(&digits[..digits.len() - dropped]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::book_side::SideKind;

    fn shortest(mantissa: i128, scale: i64) -> String {
        let mut text = Vec::new();
        write_shortest(&mut text, mantissa, scale);
        String::from_utf8(text).unwrap()
    }

    fn digits_at(mantissa: i128, scale: i64, text_scale: i64) -> Result<String, LevelTextError> {
        let mut text = Vec::new();
        write_digits_at_scale(&mut text, mantissa, scale, text_scale).map(|()| String::from_utf8(text).unwrap())
    }

    #[test]
    fn digits_are_rust_s_own() {
        let mut values = vec![0, 1, 9, 10, 99, 100, 101, 999, 1000, i128::MAX, i128::MIN, -1, -10];
        let edges = [i128::from(u64::MAX), i128::from(i64::MAX), i128::from(u32::MAX)];
        values.extend(edges.iter().flat_map(|&edge| [edge - 1, edge, edge + 1, -edge]));
        values.extend(
            (0..38).flat_map(|exponent| [10i128.pow(exponent) - 1, 10i128.pow(exponent), 7 * 10i128.pow(exponent) + 3]),
        );
        for value in values {
            assert_eq!(decimal_digits(value, &mut [0; DIGIT_BUFFER]), value.to_string().as_bytes(), "{value}");
        }
    }

    #[test]
    fn shortest_spelling() {
        let cases = [
            ((3_026_100, 2), "30261"),
            ((5, 3), "0.005"),
            ((20_000, 8), "0.0002"),
            ((150_000_000, 8), "1.5"),
            ((100_000_000, 8), "1"),
            ((0, 8), "0"),
            ((0, -2), "0"),
            ((7, 0), "7"),
            ((5, -2), "500"),
            ((1_234_000, 3), "1234"),
            ((1_234_500, 3), "1234.5"),
            ((i128::MAX, 38), "1.70141183460469231731687303715884105727"),
            ((i128::MAX, 39), "0.170141183460469231731687303715884105727"),
            ((-5, 3), "-0.005"),
            ((-50, 1), "-5"),
        ];
        for ((mantissa, scale), expected) in cases {
            assert_eq!(shortest(mantissa, scale), expected, "({mantissa}, {scale})");
        }
    }

    #[test]
    fn digits_at_a_text_scale() {
        assert_eq!(digits_at(35_415, 2, 8).unwrap(), "35415000000");
        assert_eq!(digits_at(500_000_000, 8, 1).unwrap(), "50"); // 5.0
        assert_eq!(digits_at(5, 0, -1), Err(LevelTextError::Inexact { mantissa: 5, scale: 0, text_scale: -1 }));
        assert_eq!(digits_at(0, 8, 2).unwrap(), "0");
        assert_eq!(digits_at(0, 2, 8).unwrap(), "0");
        assert_eq!(digits_at(i128::MIN, 0, 0).unwrap(), i128::MIN.to_string());
        let error = digits_at(12_345, 8, 2).unwrap_err();
        assert_eq!(error.to_string(), "12345e-8 cannot be written with 2 decimals");
    }

    #[test]
    fn okx_interleaves_and_kraken_puts_asks_first() {
        let mut bids = BookSide::new(SideKind::Bids);
        let mut asks = BookSide::new(SideKind::Asks);
        bids.set(302_360, 20_000).unwrap();
        bids.set(302_350, 100_000_000).unwrap();
        asks.set(302_370, 150_000_000).unwrap();
        let expected = crc32(b"30236:0.0002:30237:1.5:30235:1") as i32;
        assert_eq!(okx_checksum(&bids, &asks, 1, 8), Ok(expected));
        let expected = crc32(
            b"302370150000000\
                                 30236020000\
                                 302350100000000",
        );
        assert_eq!(kraken_checksum(&bids, &asks, (1, 8), (1, 8)), Ok(expected));
        let empty = BookSide::new(SideKind::Bids);
        assert_eq!(okx_checksum(&empty, &BookSide::new(SideKind::Asks), 1, 8), Ok(0));
        let error = okx_checksum(&bids, &asks, 1, 1001).unwrap_err();
        assert_eq!(error.to_string(), "size scale 1001 is outside -1000..=1000");
    }
}
