//! Binance combined-stream depth diffs as sent (`{"stream": "btcusdt@depth@100ms", "data": {"e":
//! "depthUpdate", "E": …, "s": "BTCUSDT", "U": …, "u": …, "b": [[px, qty]], "a": […]}}`), read with
//! serde_json: the fields a diff needs, or None for every other frame, which the Python parser
//! then reads and, where it is bad, reports.

use serde::Deserialize;

/// One diff of one symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthDiff<'a> {
    pub symbol: &'a str,
    pub event_time_ms: i64,
    pub first_update_id: i64,
    pub final_update_id: i64,
    /// `pu` where the stream sends it, else 0 (as the Python message defaults it).
    pub previous_final_update_id: i64,
    pub bids: Vec<(&'a str, &'a str)>,
    pub asks: Vec<(&'a str, &'a str)>,
}

#[derive(Deserialize)]
struct Combined<'a> {
    #[serde(borrow)]
    data: Depth<'a>,
}

#[derive(Deserialize)]
struct Depth<'a> {
    #[serde(borrow)]
    e: &'a str,
    #[serde(rename = "E")]
    event_time: i64,
    #[serde(borrow)]
    s: &'a str,
    #[serde(rename = "U")]
    first_update_id: i64,
    u: i64,
    #[serde(default)]
    pu: i64,
    #[serde(borrow)]
    b: Vec<(&'a str, &'a str)>,
    #[serde(borrow)]
    a: Vec<(&'a str, &'a str)>,
}

const PREFIX: &[u8] = b"{\"stream\":\"";
/// Where the stream name ends: `@depth` is searched for within it.
const HEAD: usize = 64;

/// The diff in `frame`, or None when `frame` is not a combined-stream depth diff this path reads.
pub fn depth_diff(frame: &[u8]) -> Option<DepthDiff<'_>> {
    let head = &frame[..frame.len().min(HEAD)];
    if !frame.starts_with(PREFIX) || !head.windows(7).any(|window| window == b"@depth\"" || window == b"@depth@") {
        return None;
    }
    let depth = serde_json::from_slice::<Combined<'_>>(frame).ok()?.data;
    (depth.e == "depthUpdate").then_some(DepthDiff {
        symbol: depth.s,
        event_time_ms: depth.event_time,
        first_update_id: depth.first_update_id,
        final_update_id: depth.u,
        previous_final_update_id: depth.pu,
        bids: depth.b,
        asks: depth.a,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_gives_its_ids_and_levels() {
        let frame = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161254089,"s":"BTCUSDT","U":10,"u":12,"b":[["61837.63000000","0.10000000"]],"a":[]}}"#;
        let diff = depth_diff(frame).expect("a diff");
        assert_eq!(
            (diff.symbol, diff.event_time_ms, diff.first_update_id, diff.final_update_id),
            ("BTCUSDT", 1_723_161_254_089, 10, 12)
        );
        assert_eq!(
            (diff.previous_final_update_id, diff.bids, diff.asks),
            (0, vec![("61837.63000000", "0.10000000")], vec![])
        );
    }

    #[test]
    fn everything_but_a_plain_diff_is_left_to_python() {
        let frames: [&[u8]; 5] = [
            br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}"#,
            br#"{"stream":"btcusdt@depth5@100ms","data":{"lastUpdateId":160,"bids":[],"asks":[]}}"#,
            br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1","1","1"]],"a":[]}}"#,
            br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":null,"b":[],"a":[]}}"#,
            br#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}"#,
        ];
        for frame in frames {
            assert_eq!(depth_diff(frame), None, "{}", String::from_utf8_lossy(frame));
        }
    }
}
