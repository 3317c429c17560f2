//! A Binance trade's fields → the canonical trade: the one definition of that mapping.
//!
//! `sequence` and `trade_id` are the (aggregate) trade id, `exchange_ts_ns` the trade time
//! `T` in ns, the side is the taker's (`m`: the buyer is the maker, so the taker sold), and
//! price and quantity are exact mantissas at the instrument's scales, refused rather than rounded.

use std::fmt;

use crate::binance_messages::{JsonInteger, TradeFields};
use crate::canonical_trade::{CanonicalTrade, MAX_WIRE_INT, MIN_WIRE_INT, Side};
use crate::decimal_text::{DecimalTextError, mantissa_at_scale};
use crate::timestamps::NS_PER_MS;

/// A trade frame whose values have no canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MalformedTrade {
    /// The price or quantity text (same wording as the Python parser's reasons).
    DecimalText(DecimalTextError),
    /// The trade id is outside the 64-bit integers the wire format carries.
    TradeIdOutOfRange { trade_id: String },
    /// `T` in ns is outside the 64-bit integers the wire format carries.
    TradeTimeOutOfRange { trade_time_ms: String },
}

impl fmt::Display for MalformedTrade {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DecimalText(error) => error.fmt(formatter),
            Self::TradeIdOutOfRange { trade_id } => {
                write!(formatter, "trade id {trade_id} does not fit a 64-bit integer")
            }
            Self::TradeTimeOutOfRange { trade_time_ms } => {
                write!(formatter, "trade time T={trade_time_ms} ms is outside the 64-bit nanosecond range")
            }
        }
    }
}

impl From<DecimalTextError> for MalformedTrade {
    fn from(error: DecimalTextError) -> Self {
        Self::DecimalText(error)
    }
}

/// The canonical trade of `fields` at the instrument's scales; the price is checked first, then
/// the quantity, the id and the time (the order the Python mapping and encoder found errors in).
pub fn canonical_trade(
    fields: &TradeFields<'_>,
    price_scale: u32,
    size_scale: u32,
    receive_ts_ns: i64,
) -> Result<CanonicalTrade, MalformedTrade> {
    let price = mantissa_at_scale(&fields.price, price_scale)?;
    let size = mantissa_at_scale(&fields.quantity, size_scale)?;
    let sequence = wire_integer(fields.trade_id, 1)
        .ok_or_else(|| MalformedTrade::TradeIdOutOfRange { trade_id: fields.trade_id.text.to_owned() })?;
    let exchange_ts_ns = wire_integer(fields.trade_time_ms, NS_PER_MS)
        .ok_or_else(|| MalformedTrade::TradeTimeOutOfRange { trade_time_ms: fields.trade_time_ms.text.to_owned() })?;
    Ok(CanonicalTrade {
        exchange_ts_ns,
        receive_ts_ns,
        sequence,
        trade_id: sequence.to_string(),
        side: if fields.buyer_is_maker { Side::Sell } else { Side::Buy },
        price,
        size,
        price_scale,
        size_scale,
    })
}

/// `integer × factor` if the wire format carries it.
fn wire_integer(integer: JsonInteger<'_>, factor: i128) -> Option<i128> {
    integer.value()?.checked_mul(factor).filter(|value| (MIN_WIRE_INT..=MAX_WIRE_INT).contains(value))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn fields<'a>(price: &'a str, trade_time_ms: &'a str) -> TradeFields<'a> {
        TradeFields {
            exchange_symbol: Cow::Borrowed("BTCUSDT"),
            trade_id: JsonInteger { text: "3735683259" },
            price: Cow::Borrowed(price),
            quantity: Cow::Borrowed("0.02000000"),
            trade_time_ms: JsonInteger { text: trade_time_ms },
            buyer_is_maker: true,
        }
    }

    #[test]
    fn maps_a_trade() {
        let trade = canonical_trade(&fields("61837.63000000", "1723161255342"), 8, 8, 7).expect("a trade");
        assert_eq!(trade.exchange_ts_ns, 1_723_161_255_342_000_000);
        assert_eq!((trade.sequence, trade.trade_id.as_str(), trade.side), (3_735_683_259, "3735683259", Side::Sell));
        assert_eq!((trade.price, trade.size, trade.receive_ts_ns), (6_183_763_000_000, 2_000_000, 7));
    }

    #[test]
    fn refuses_prices_it_would_round_and_times_past_64_bits() {
        let error = canonical_trade(&fields("1.000000001", "1"), 8, 8, 0).unwrap_err();
        assert_eq!(error.to_string(), "1.000000001 has more than 8 decimals");
        let last_ms = (i128::from(u64::MAX) / NS_PER_MS).to_string();
        assert!(canonical_trade(&fields("1", &last_ms), 8, 8, 0).is_ok());
        let too_late = (i128::from(u64::MAX) / NS_PER_MS + 1).to_string();
        let error = canonical_trade(&fields("1", &too_late), 8, 8, 0).unwrap_err();
        assert_eq!(error.to_string(), "trade time T=18446744073710 ms is outside the 64-bit nanosecond range");
    }

    #[test]
    fn refuses_ids_past_64_bits() {
        let mut trade = fields("1", "1");
        trade.trade_id = JsonInteger { text: "18446744073709551616" };
        let error = canonical_trade(&trade, 8, 8, 0).unwrap_err();
        assert_eq!(error.to_string(), "trade id 18446744073709551616 does not fit a 64-bit integer");
        trade.trade_id = JsonInteger { text: "-9223372036854775808" };
        assert_eq!(canonical_trade(&trade, 8, 8, 0).map(|trade| trade.sequence), Ok(i128::from(i64::MIN)));
    }
}
