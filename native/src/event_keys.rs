//! Each symbol's Kafka key and encoded-event prefix, made once per symbol: what the stateless fast
//! paths (tops of book, trades) return with every event.

use std::collections::HashMap;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::attached_books::KeyAndEvent;

/// The keys and prefixes of one exchange's events of one kind.
pub struct EventKeys {
    exchange: String,
    event_prefix: fn(&str, &str) -> Vec<u8>,
    symbols: HashMap<Box<str>, (Py<PyString>, Vec<u8>)>,
}

impl EventKeys {
    /// `event_prefix(exchange, symbol)`: the bytes every event of the kind starts with.
    pub fn new(exchange: String, event_prefix: fn(&str, &str) -> Vec<u8>) -> Self {
        Self { exchange, event_prefix, symbols: HashMap::new() }
    }

    /// `(key, prefix + body)` for `symbol`, `encode(prefix)` giving the whole event.
    pub fn key_and_event<'py>(
        &mut self,
        py: Python<'py>,
        symbol: &str,
        encode: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> KeyAndEvent<'py> {
        let (exchange, event_prefix) = (&self.exchange, self.event_prefix);
        let (key, prefix) = self.symbols.entry(symbol.into()).or_insert_with(|| {
            (PyString::new(py, &format!("{exchange}:{symbol}")).unbind(), event_prefix(exchange, symbol))
        });
        (key.clone_ref(py), PyBytes::new(py, &encode(prefix)))
    }
}
