//! `tradeplat_native`: the hot paths of the normaliser, in Rust.
//!
//! [`order_book::OrderBook`] is every instrument's order book, with the OKX and Kraken checksums
//! of its top levels (`platform_streams.books.order_book` re-exports it).
//!
//! [`BinanceTradeParser::parse`] turns a raw Binance `trade`/`aggTrade` frame into what the
//! normaliser produces, the Kafka key (`"binance:BTC/USDT"`) and the encoded canonical
//! `Trade`, without building a Python object per field. Frames it does not take return None
//! and go to the Python parser. Symbols and scales come from the Python side (the instrument
//! registry and its rules), asked once per exchange symbol through `resolve_symbol`.

mod attached_books;
mod binance_depth_messages;
mod binance_depth_updates;
mod binance_layout;
mod binance_messages;
mod binance_top_of_book;
mod binance_trade;
mod book_checksum;
mod book_side;
mod canonical_book_delta;
mod canonical_top_of_book;
mod canonical_trade;
mod crc32;
mod decimal_text;
mod event_keys;
mod kraken_book_messages;
mod kraken_book_updates;
mod kraken_messages;
mod kraken_top_of_book;
mod kraken_trades;
mod msgpack_wire;
mod okx_book_messages;
mod okx_book_updates;
mod okx_top_of_book;
mod okx_trades;
mod order_book;
mod timestamps;
mod top_of_book_path;

use std::collections::HashMap;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::binance_messages::{TradeFields, trade_fields};
use crate::binance_trade::canonical_trade;

create_exception!(
    tradeplat_native,
    MalformedTrade,
    PyValueError,
    "A trade frame whose price, quantity or time has no exact canonical value."
);

/// Binance trade frames → `(key, encoded Trade)`; one per parser (it keeps the symbols it was given).
///
/// `resolve_symbol(exchange_symbol, price_text, size_text)` returns
/// `(symbol, price_scale, size_scale, remember)`: the normalised symbol, the scales prices
/// and sizes are parsed at, and whether they hold for every later frame of that symbol
/// (False when the text could not fix them). Its exceptions propagate unchanged.
#[pyclass(module = "tradeplat_native")]
struct BinanceTradeParser {
    exchange: String,
    resolve_symbol: Py<PyAny>,
    symbols: HashMap<Box<str>, SymbolEntry>,
}

/// What every trade of one exchange symbol shares.
struct SymbolEntry {
    key: Py<PyString>,
    event_prefix: Vec<u8>,
    price_scale: u32,
    size_scale: u32,
}

type KeyAndEvent<'py> = (Py<PyString>, Bound<'py, PyBytes>);

#[pymethods]
impl BinanceTradeParser {
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { exchange, resolve_symbol, symbols: HashMap::new() }
    }

    /// `(key, encoded Trade)` of a trade frame, None for any other frame; raises
    /// `MalformedTrade` for a trade whose values have no exact canonical form.
    fn parse<'py>(&mut self, py: Python<'py>, frame: &[u8], receive_ts_ns: i64) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(fields) = trade_fields(frame) else {
            return Ok(None);
        };
        if let Some(entry) = self.symbols.get(fields.exchange_symbol.as_ref()) {
            return entry.key_and_event(py, &fields, receive_ts_ns).map(Some);
        }
        let (entry, remember) = self.resolve(py, &fields)?;
        let result = entry.key_and_event(py, &fields, receive_ts_ns);
        if remember {
            self.symbols.insert(fields.exchange_symbol.as_ref().into(), entry);
        }
        result.map(Some)
    }

    /// How many exchange symbols have their scales remembered.
    fn __len__(&self) -> usize {
        self.symbols.len()
    }
}

impl BinanceTradeParser {
    fn resolve(&self, py: Python<'_>, fields: &TradeFields<'_>) -> PyResult<(SymbolEntry, bool)> {
        let resolved = self.resolve_symbol.bind(py).call1((
            fields.exchange_symbol.as_ref(),
            fields.price.as_ref(),
            fields.quantity.as_ref(),
        ))?;
        let (symbol, price_scale, size_scale, remember): (String, u32, u32, bool) = resolved.extract()?;
        let entry = SymbolEntry {
            key: PyString::new(py, &format!("{}:{symbol}", self.exchange)).unbind(),
            event_prefix: canonical_trade::event_prefix(&self.exchange, &symbol),
            price_scale,
            size_scale,
        };
        Ok((entry, remember))
    }
}

impl SymbolEntry {
    fn key_and_event<'py>(
        &self,
        py: Python<'py>,
        fields: &TradeFields<'_>,
        receive_ts_ns: i64,
    ) -> PyResult<KeyAndEvent<'py>> {
        let trade = canonical_trade(fields, self.price_scale, self.size_scale, receive_ts_ns)
            .map_err(|error| MalformedTrade::new_err(error.to_string()))?;
        let event = canonical_trade::encode(&self.event_prefix, &trade);
        Ok((self.key.clone_ref(py), PyBytes::new(py, &event)))
    }
}

#[pymodule]
mod tradeplat_native {
    #[pymodule_export]
    use super::{BinanceTradeParser, MalformedTrade};
    #[pymodule_export]
    use crate::binance_depth_updates::BinanceDepthUpdates;
    #[pymodule_export]
    use crate::binance_top_of_book::BinanceTopOfBook;
    #[pymodule_export]
    use crate::kraken_book_updates::KrakenBookUpdates;
    #[pymodule_export]
    use crate::kraken_top_of_book::KrakenTopOfBook;
    #[pymodule_export]
    use crate::kraken_trades::KrakenTradeParser;
    #[pymodule_export]
    use crate::okx_book_updates::OkxBookUpdates;
    #[pymodule_export]
    use crate::okx_top_of_book::OkxTopOfBook;
    #[pymodule_export]
    use crate::okx_trades::OkxTradeParser;
    #[pymodule_export]
    use crate::order_book::{InvalidLevel, LevelTextError, OrderBook};
}
