//! Kraken WebSocket v1 book updates as sent (`[channelID, {"a": …}, {"b": …, "c": "…"}, "book-10",
//! "XBT/USD"]`), read with serde_json: the fields an update needs, or None for every other frame
//! (snapshots, other channels, errors, escaped text, anything unusual), which the Python parser
//! then reads and, where it is bad, reports.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// One level as Kraken writes it: price, volume and time text (a fourth item, `"r"`, marks a republished level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLevel<'a> {
    pub price: &'a str,
    pub volume: &'a str,
    pub time: &'a str,
}

/// A book update of one pair: its levels in frame order (both parts of a two-part update) and its checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookUpdate<'a> {
    pub pair: &'a str,
    /// The depth the channel name states (`book-<depth>`).
    pub depth: usize,
    pub bids: Vec<TextLevel<'a>>,
    pub asks: Vec<TextLevel<'a>>,
    pub checksum: u32,
}

#[derive(Deserialize)]
struct Part<'a> {
    #[serde(borrow, default)]
    a: Option<Vec<Vec<&'a str>>>,
    #[serde(borrow, default)]
    b: Option<Vec<Vec<&'a str>>>,
    #[serde(borrow, default)]
    c: Option<&'a str>,
    #[serde(rename = "as", default)]
    snapshot_asks: Option<IgnoredAny>,
    #[serde(rename = "bs", default)]
    snapshot_bids: Option<IgnoredAny>,
}

/// Where the channel name sits: a data frame ends with it and the pair.
const TAIL: usize = 64;

/// The update in `frame`, or None when `frame` is not a book update this path reads.
pub fn book_update(frame: &[u8]) -> Option<BookUpdate<'_>> {
    let tail = &frame[frame.len().saturating_sub(TAIL)..];
    if !frame.starts_with(b"[") || !tail.windows(6).any(|window| window == b"\"book-") {
        return None;
    }
    let parts: Vec<&RawValue> = serde_json::from_slice(frame).ok()?;
    let [_, payloads @ .., channel, pair] = parts.as_slice() else {
        return None;
    };
    if !(1..=2).contains(&payloads.len()) {
        return None;
    }
    let channel: &str = serde_json::from_str(channel.get()).ok()?;
    let depth_text = channel.strip_prefix("book-")?;
    if depth_text.is_empty() || !depth_text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let mut update = BookUpdate {
        pair: serde_json::from_str(pair.get()).ok()?,
        depth: depth_text.parse().ok()?,
        bids: Vec::new(),
        asks: Vec::new(),
        checksum: 0,
    };
    let mut checksums = 0;
    for payload in payloads {
        let part: Part<'_> = serde_json::from_str(payload.get()).ok()?;
        if part.snapshot_asks.is_some() || part.snapshot_bids.is_some() {
            return None;
        }
        for level in part.a.unwrap_or_default() {
            update.asks.push(text_level(&level)?);
        }
        for level in part.b.unwrap_or_default() {
            update.bids.push(text_level(&level)?);
        }
        if let Some(checksum) = part.c {
            checksums += 1;
            update.checksum = unsigned_checksum(checksum)?;
        }
    }
    (checksums == 1 && !(update.bids.is_empty() && update.asks.is_empty())).then_some(update)
}

fn text_level<'a>(items: &[&'a str]) -> Option<TextLevel<'a>> {
    match items {
        [price, volume, time] | [price, volume, time, _] => Some(TextLevel { price, volume, time }),
        _ => None,
    }
}

fn unsigned_checksum(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `"1618678133.365913"` (seconds with up to 9 decimals, as Kraken writes times) → ns; None for
/// any other text, as the Python `seconds_text_to_ns` refuses it.
pub fn seconds_text_to_ns(text: &str) -> Option<u128> {
    let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
    let is_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if seconds.is_empty() || !is_digits(seconds) || fraction.len() > 9 || !is_digits(fraction) {
        return None;
    }
    let whole: u128 = seconds.parse().ok()?;
    let mut nanos: u128 = if fraction.is_empty() { 0 } else { fraction.parse().ok()? };
    for _ in fraction.len()..9 {
        nanos *= 10;
    }
    whole.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// The number of decimals written in `text` (`"0.0100"` → 4), as the Python `text_scale` counts them.
pub fn text_scale(text: &str) -> i64 {
    text.find('.').map_or(0, |dot| (text.len() - dot - 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_part_update_keeps_frame_order_and_its_one_checksum() {
        let frame = br#"[1234,{"a":[["5541.30000","2.50700000","1534614248.456738"],["5542.50000","0.40100000","1534614248.456738"]]},{"b":[["5541.20000","1.52900000","1534614248.765567","r"]],"c":"974942666"},"book-10","XBT/USD"]"#;
        let update = book_update(frame).expect("an update");
        assert_eq!((update.pair, update.depth, update.checksum), ("XBT/USD", 10, 974_942_666));
        assert_eq!(update.asks.iter().map(|level| level.price).collect::<Vec<_>>(), ["5541.30000", "5542.50000"]);
        assert_eq!(update.bids, [TextLevel { price: "5541.20000", volume: "1.52900000", time: "1534614248.765567" }]);
    }

    #[test]
    fn everything_but_a_plain_update_is_left_to_python() {
        let frames: [&[u8]; 9] = [
            br#"[1,{"as":[["1.0","1.0","1.0"]],"bs":[]},"book-10","XBT/USD"]"#,
            br#"[1,{"a":[["1.0","1.0","1.0"]]},"book-10","XBT/USD"]"#,
            br#"[1,{"a":[["1.0","1.0","1.0"]],"c":"1"},{"b":[],"c":"2"},"book-10","XBT/USD"]"#,
            br#"[1,{"a":[],"c":"1"},"book-10","XBT/USD"]"#,
            br#"[1,{"a":[["1.0","1.0"]],"c":"1"},"book-10","XBT/USD"]"#,
            br#"[1,{"a":[["1.0","1.0","1.0"]],"c":"99999999999"},"book-10","XBT/USD"]"#,
            br#"[1,{"a":[["1.0","1.0","1.0"]],"c":"1"},"book-x","XBT/USD"]"#,
            br#"[1,[["1.0","1.0","1.0","b","l",""]],"trade","XBT/USD"]"#,
            br#"{"event":"heartbeat"}"#,
        ];
        for frame in frames {
            assert_eq!(book_update(frame), None, "{}", String::from_utf8_lossy(frame));
        }
    }

    #[test]
    fn times_are_read_exactly_or_refused() {
        assert_eq!(seconds_text_to_ns("1618678133.365913"), Some(1_618_678_133_365_913_000));
        assert_eq!(seconds_text_to_ns("1618678133"), Some(1_618_678_133_000_000_000));
        assert_eq!(seconds_text_to_ns("1618678133."), Some(1_618_678_133_000_000_000));
        assert_eq!(seconds_text_to_ns("1.123456789"), Some(1_123_456_789));
        for bad in ["", ".5", "1.1234567890", "1.2.3", "-1.0", "1e5", " 1.0"] {
            assert_eq!(seconds_text_to_ns(bad), None, "{bad}");
        }
    }
}
