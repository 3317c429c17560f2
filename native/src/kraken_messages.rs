//! Kraken WebSocket v1 data frames of one payload (`[channelID, payload, channelName, pair]`), as
//! the ticker and trade fast paths read them; and the ticker and trade payloads. None for every
//! frame these paths do not read, which the Python parser then reads and, where bad, reports.

use serde::Deserialize;
use serde_json::value::RawValue;

/// A v1 channel as it stands in a frame: its name, and its name quoted (found near the frame's end
/// before any parsing).
pub struct Channel {
    name: &'static str,
    quoted: &'static [u8],
}

pub const TICKER: Channel = Channel { name: "ticker", quoted: b"\"ticker\"" };
pub const TRADE: Channel = Channel { name: "trade", quoted: b"\"trade\"" };

/// The payload and pair of a frame of `channel` (one payload), or None.
pub fn channel_payload<'a>(frame: &'a [u8], channel: Channel) -> Option<(&'a RawValue, &'a str)> {
    let tail = &frame[frame.len().saturating_sub(48)..];
    if !frame.starts_with(b"[") || !tail.windows(channel.quoted.len()).any(|window| window == channel.quoted) {
        return None;
    }
    let parts: Vec<&'a RawValue> = serde_json::from_slice(frame).ok()?;
    let [_, payload, name, pair] = parts.as_slice() else {
        return None;
    };
    let name: &str = serde_json::from_str(name.get()).ok()?;
    (name == channel.name).then_some(())?;
    Some((*payload, serde_json::from_str(pair.get()).ok()?))
}

/// A ticker side: `[price, wholeLotVolume, lotVolume]` (the whole-lot volume an integer or text,
/// read only to be checked, as the Python message checks it).
#[derive(Deserialize)]
#[allow(dead_code)]
pub struct TickerSide<'a>(#[serde(borrow)] pub &'a str, pub IntegerOrText<'a>, #[serde(borrow)] pub &'a str);

/// An integer or a string, as the Python message accepts there (not a float, not null).
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum IntegerOrText<'a> {
    Unsigned(u64),
    Signed(i64),
    Text(#[serde(borrow)] &'a str),
}

/// The `ticker` payload: only the best ask `a` and bid `b` are read.
#[derive(Deserialize)]
pub struct Ticker<'a> {
    #[serde(borrow)]
    pub a: TickerSide<'a>,
    #[serde(borrow)]
    pub b: TickerSide<'a>,
}

/// One trade: `[price, volume, time, side, orderType, misc]` (misc may be left out).
pub struct TradeEntry<'a> {
    pub price: &'a str,
    pub volume: &'a str,
    pub time: &'a str,
    pub side: &'a str,
}

/// The trades of a `trade` payload, or None when an entry is not 5 or 6 strings.
pub fn trade_entries<'a>(payload: &'a RawValue) -> Option<Vec<TradeEntry<'a>>> {
    let entries: Vec<Vec<&'a str>> = serde_json::from_str(payload.get()).ok()?;
    entries
        .iter()
        .map(|entry| match entry.as_slice() {
            [price, volume, time, side, _] | [price, volume, time, side, _, _] => {
                Some(TradeEntry { price, volume, time, side })
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticker_and_trade_frames_are_split_and_read() {
        let ticker = br#"[340,{"a":["5525.40000",1,"1.000"],"b":["5525.10000",1,"1.000"],"c":["5525.10000","0.00398963"]},"ticker","XBT/USD"]"#;
        let (payload, pair) = channel_payload(ticker, TICKER).expect("a ticker");
        let read: Ticker<'_> = serde_json::from_str(payload.get()).expect("its sides");
        assert_eq!((pair, read.a.0, read.b.2), ("XBT/USD", "5525.40000", "1.000"));
        let trade = br#"[0,[["5541.20000","0.15850568","1534614057.321597","s","l",""],["6060.00000","0.02455000","1534614057.324998","b","l",""]],"trade","XBT/USD"]"#;
        let (payload, _) = channel_payload(trade, TRADE).expect("a trade frame");
        let entries = trade_entries(payload).expect("two trades");
        assert_eq!((entries.len(), entries[1].side, entries[0].time), (2, "b", "1534614057.321597"));
        assert!(channel_payload(trade, TICKER).is_none());
        let float_volume = br#"[340,{"a":["5525.40000",1.5,"1.000"],"b":["5525.10000",1,"1.000"]},"ticker","XBT/USD"]"#;
        let (payload, _) = channel_payload(float_volume, TICKER).expect("a ticker frame");
        assert!(serde_json::from_str::<Ticker<'_>>(payload.get()).is_err());
    }
}
