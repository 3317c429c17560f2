//! Time units of the exchanges' timestamps (the canonical events carry nanoseconds).

/// Nanoseconds per millisecond: Binance and OKX stamp their messages in milliseconds.
pub const NS_PER_MS: i128 = 1_000_000;
