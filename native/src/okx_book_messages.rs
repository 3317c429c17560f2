//! OKX v5 book updates as sent (`{"arg": {"channel": "books", "instId": "BTC-USDT"}, "action":
//! "update", "data": [{"asks": [...], "bids": [...], "ts": "...", "checksum": ..., "seqId": ...,
//! "prevSeqId": ...}]}`), read with serde_json: the fields an update needs, or None for every
//! other frame, which the Python parser then reads and, where it is bad, reports.

use serde::Deserialize;
use serde::de::IgnoredAny;

/// The channels whose pushes are a snapshot then checksummed updates.
const BOOK_CHANNELS: [&str; 3] = ["books", "books-l2-tbt", "books50-l2-tbt"];

/// A book update of one instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookUpdate<'a> {
    pub inst_id: &'a str,
    /// `(price, size)` texts, in push order.
    pub bids: Vec<(&'a str, &'a str)>,
    pub asks: Vec<(&'a str, &'a str)>,
    pub ts_ms: u64,
    pub checksum: Option<i64>,
    pub seq_id: Option<i64>,
    pub prev_seq_id: Option<i64>,
}

#[derive(Deserialize)]
struct Push<'a> {
    #[serde(borrow)]
    arg: Arg<'a>,
    #[serde(borrow, default)]
    action: Option<&'a str>,
    #[serde(borrow)]
    data: Vec<Entry<'a>>,
    #[serde(default)]
    event: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct Arg<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(borrow, default, rename = "instId")]
    inst_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    asks: Vec<Vec<&'a str>>,
    #[serde(borrow)]
    bids: Vec<Vec<&'a str>>,
    #[serde(borrow)]
    ts: &'a str,
    #[serde(default)]
    checksum: Option<i64>,
    #[serde(default, rename = "seqId")]
    seq_id: Option<i64>,
    #[serde(default, rename = "prevSeqId")]
    prev_seq_id: Option<i64>,
    #[serde(borrow, default, rename = "instId")]
    inst_id: Option<&'a str>,
}

/// Where OKX writes the action: after the `arg` object.
const HEAD: usize = 160;

/// The update in `frame`, or None when `frame` is not a book update this path reads.
pub fn book_update(frame: &[u8]) -> Option<BookUpdate<'_>> {
    let head = &frame[..frame.len().min(HEAD)];
    if !frame.starts_with(b"{") || !head.windows(17).any(|window| window == b"\"action\":\"update\"") {
        return None;
    }
    let push: Push<'_> = serde_json::from_slice(frame).ok()?;
    if push.event.is_some() || push.action != Some("update") || !BOOK_CHANNELS.contains(&push.arg.channel) {
        return None;
    }
    let [entry] = <[Entry<'_>; 1]>::try_from(push.data).ok()?;
    let (inst_id, ts_ms) = entry_identity(&entry, push.arg.inst_id)?;
    Some(BookUpdate {
        inst_id,
        bids: entry.bids.iter().map(|level| price_and_size(level)).collect::<Option<_>>()?,
        asks: entry.asks.iter().map(|level| price_and_size(level)).collect::<Option<_>>()?,
        ts_ms,
        checksum: entry.checksum,
        seq_id: entry.seq_id,
        prev_seq_id: entry.prev_seq_id,
    })
}

/// The top of book of a `bbo-tbt` push: its best levels (`("0", "0")` for an empty side, as the
/// Python parser reads them), time and sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopOfBook<'a> {
    pub inst_id: &'a str,
    pub bid: (&'a str, &'a str),
    pub ask: (&'a str, &'a str),
    pub ts_ms: u64,
    pub seq_id: Option<i64>,
}

const EMPTY_SIDE: (&str, &str) = ("0", "0");

/// The top of book in a `bbo-tbt` push of one entry, or None for any other frame.
pub fn top_of_book<'a>(frame: &'a [u8]) -> Option<TopOfBook<'a>> {
    if !frame.starts_with(br#"{"arg":{"channel":"bbo-tbt""#) {
        return None;
    }
    let push: Push<'a> = serde_json::from_slice(frame).ok()?;
    if push.event.is_some() || push.arg.channel != "bbo-tbt" {
        return None;
    }
    let [entry] = <[Entry<'a>; 1]>::try_from(push.data).ok()?;
    let (inst_id, ts_ms) = entry_identity(&entry, push.arg.inst_id)?;
    let best = |levels: &[Vec<&'a str>]| levels.first().map_or(Some(EMPTY_SIDE), |level| price_and_size(level));
    // every level is read, as the Python parser validates each
    entry.bids.iter().chain(&entry.asks).try_for_each(|level| price_and_size(level).map(drop))?;
    Some(TopOfBook { inst_id, bid: best(&entry.bids)?, ask: best(&entry.asks)?, ts_ms, seq_id: entry.seq_id })
}

/// The entry's instrument (its own `instId`, else the push's) and its time, if both are readable.
fn entry_identity<'a>(entry: &Entry<'a>, push_inst_id: Option<&'a str>) -> Option<(&'a str, u64)> {
    let inst_id = entry.inst_id.filter(|id| !id.is_empty()).or(push_inst_id)?;
    if entry.ts.is_empty() || !entry.ts.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some((inst_id, entry.ts.parse().ok()?))
}

/// `[px, sz]` plus the optional liquidated-orders and orders counts.
fn price_and_size<'a>(items: &[&'a str]) -> Option<(&'a str, &'a str)> {
    match items {
        [price, size] | [price, size, _] | [price, size, _, _] => Some((price, size)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_gives_its_levels_ids_and_checksum() {
        let frame = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["8476.98","415","0","13"]],"bids":[["8476.97","0","0","0"]],"ts":"1597026383085","checksum":-855196043,"prevSeqId":123,"seqId":124}]}"#;
        let update = book_update(frame).expect("an update");
        assert_eq!(update.inst_id, "BTC-USDT");
        assert_eq!((update.asks.clone(), update.bids.clone()), (vec![("8476.98", "415")], vec![("8476.97", "0")]));
        assert_eq!(
            (update.ts_ms, update.checksum, update.seq_id, update.prev_seq_id),
            (1_597_026_383_085, Some(-855_196_043), Some(124), Some(123))
        );
    }

    #[test]
    fn everything_but_a_plain_update_is_left_to_python() {
        let frames: [&[u8]; 6] = [
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[],"bids":[],"ts":"1"}]}"#,
            br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1"}]}"#,
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[]}"#,
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["1"]],"bids":[],"ts":"1"}]}"#,
            br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[],"bids":[],"ts":"1.5"}]}"#,
            br#"{"event":"error","code":"60012","msg":"bad","action":"update"}"#,
        ];
        for frame in frames {
            assert_eq!(book_update(frame), None, "{}", String::from_utf8_lossy(frame));
        }
    }
}

#[cfg(test)]
mod top_of_book_tests {
    use super::*;

    #[test]
    fn a_bbo_push_gives_its_best_levels_and_an_empty_side_reads_as_zero() {
        let frame = br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["8476.98","415","0","13"]],"bids":[],"ts":"1597026383085","seqId":7}]}"#;
        let top = top_of_book(frame).expect("a top of book");
        assert_eq!(
            (top.inst_id, top.bid, top.ask, top.ts_ms, top.seq_id),
            ("BTC-USDT", ("0", "0"), ("8476.98", "415"), 1_597_026_383_085, Some(7))
        );
        assert!(
            top_of_book(
                br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[["1"]],"bids":[],"ts":"1"}]}"#
            )
            .is_none()
        );
        assert!(
            top_of_book(br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[],"ts":"1"}]}"#)
                .is_none()
        );
    }
}
