//! What the native book fast paths share: the live books the normaliser attached to them (each
//! with its Python sync rule, read for `live` and `book`), and each pair's symbol and scales, asked
//! of Python once.

use std::collections::HashMap;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::book_side::Level;
use crate::canonical_book_delta::{self, CanonicalBookDelta};
use crate::decimal_text::mantissa_at_scale;
use crate::order_book::OrderBook;

/// A pair's normalised symbol and the scales its text is read at.
pub struct PairScales {
    pub symbol: Box<str>,
    pub price_scale: u32,
    pub size_scale: u32,
}

/// A live book a fast path may update: its sync rule, the book itself, the connection feeding it,
/// and what every event of it shares.
pub struct AttachedBook {
    pub sync: Py<PyAny>,
    pub book: Py<OrderBook>,
    pub connection_id: Box<str>,
    pub key: Py<PyString>,
    pub event_prefix: Vec<u8>,
}

/// Each pair's symbol and scales, asked of Python once per pair (each time while Python says not
/// to remember them: scales read off one frame's text).
pub struct PairTable {
    resolve_symbol: Py<PyAny>,
    pairs: HashMap<Box<str>, PairScales>,
}

impl PairTable {
    /// `resolve_symbol(pair, price_text, size_text)` returns `(symbol, price_scale, size_scale, remember)`.
    pub fn new(resolve_symbol: Py<PyAny>) -> Self {
        Self { resolve_symbol, pairs: HashMap::new() }
    }

    /// The pair's scales; None when Python cannot resolve it (the Python path then reports the frame)
    /// or resolved it from this frame's text only.
    pub fn resolve(&mut self, py: Python<'_>, pair: &str, texts: (&str, &str)) -> Option<&PairScales> {
        if !self.pairs.contains_key(pair) {
            let resolved = self.resolve_symbol.bind(py).call1((pair, texts.0, texts.1)).ok()?;
            let (symbol, price_scale, size_scale, remember) = resolved.extract::<(String, u32, u32, bool)>().ok()?;
            if !remember {
                return None;
            }
            self.pairs.insert(pair.into(), PairScales { symbol: symbol.into(), price_scale, size_scale });
        }
        self.pairs.get(pair)
    }
}

/// One exchange's attached books and pair scales.
pub struct AttachedBooks {
    exchange: String,
    pairs: PairTable,
    books: HashMap<Box<str>, AttachedBook>,
}

impl AttachedBooks {
    /// `resolve_symbol(pair, price_text, size_text)` returns `(symbol, price_scale, size_scale, remember)`.
    pub fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { exchange, pairs: PairTable::new(resolve_symbol), books: HashMap::new() }
    }

    pub fn attach(
        &mut self,
        py: Python<'_>,
        symbol: &str,
        sync: Bound<'_, PyAny>,
        connection_id: &str,
    ) -> PyResult<()> {
        let book = sync.getattr(intern!(py, "book"))?.cast_into::<OrderBook>()?.unbind();
        let attached = AttachedBook {
            sync: sync.unbind(),
            book,
            connection_id: connection_id.into(),
            key: PyString::new(py, &format!("{}:{symbol}", self.exchange)).unbind(),
            event_prefix: canonical_book_delta::event_prefix(&self.exchange, symbol),
        };
        self.books.insert(symbol.into(), attached);
        Ok(())
    }

    pub fn detach(&mut self, symbol: &str) {
        self.books.remove(symbol);
    }

    pub fn len(&self) -> usize {
        self.books.len()
    }

    /// The pair's scales and its attached book when the book is fed by `connection_id` and its
    /// sync rule still has it live; None otherwise (also when Python cannot resolve the pair:
    /// the Python path then reports it).
    pub fn live_book(
        &mut self,
        py: Python<'_>,
        pair: &str,
        texts: (&str, &str),
        connection_id: &str,
    ) -> PyResult<Option<(&PairScales, &AttachedBook)>> {
        let Some(scales) = self.pairs.resolve(py, pair, texts) else {
            return Ok(None);
        };
        let Some(attached) = self.books.get(scales.symbol.as_ref()) else {
            return Ok(None);
        };
        if attached.connection_id.as_ref() != connection_id || !attached.is_live(py)? {
            return Ok(None);
        }
        Ok(Some((scales, attached)))
    }
}

/// What a fast path returns for a frame it took: the Kafka key and the encoded event.
pub type KeyAndEvent<'py> = (Py<PyString>, Bound<'py, PyBytes>);

impl AttachedBook {
    /// The key and encoded `delta` of an update applied to this book, whose sync rule now has
    /// `last_sequence`.
    pub fn publish<'py>(
        &self,
        py: Python<'py>,
        delta: &CanonicalBookDelta,
        last_sequence: i128,
    ) -> PyResult<KeyAndEvent<'py>> {
        self.sync.bind(py).setattr(intern!(py, "last_sequence"), last_sequence)?;
        let event = canonical_book_delta::encode(&self.event_prefix, delta);
        Ok((self.key.clone_ref(py), PyBytes::new(py, &event)))
    }

    /// Whether the sync rule still serves this very book live.
    fn is_live(&self, py: Python<'_>) -> PyResult<bool> {
        let sync = self.sync.bind(py);
        Ok(sync.getattr(intern!(py, "live"))?.is_truthy()? && sync.getattr(intern!(py, "book"))?.is(self.book.bind(py)))
    }

    /// An attribute of the sync rule (`depth`, `last_sequence`, ...), None when it is not of type `T`.
    pub fn sync_value<'py, T: FromPyObjectOwned<'py>>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Option<T>> {
        Ok(self.sync.bind(py).getattr(name)?.extract::<T>().ok())
    }
}

/// `(price, size)` texts as levels at the pair's scales; None when a text has no exact mantissa
/// (the Python path then reports the frame).
pub fn mantissa_levels<'a>(
    texts: impl Iterator<Item = (&'a str, &'a str)>,
    price_scale: u32,
    size_scale: u32,
) -> Option<Vec<Level>> {
    texts
        .map(|(price, size)| {
            let price = mantissa_at_scale(price, price_scale).ok()?;
            let size = mantissa_at_scale(size, size_scale).ok()?;
            Some(Level { price: price.into(), size: size.into() })
        })
        .collect()
}

/// The Python class of a venue's book fast path: a struct with `books: AttachedBooks` and an
/// `update(py, frame, receive_ts_ns, connection_id)` that applies its venue's rule.
macro_rules! book_fast_path_class {
    ($name:ident) => {
        #[pyo3::pymethods]
        impl $name {
            /// `resolve_symbol(pair, price_text, size_text)` returns `(symbol, price_scale, size_scale,
            /// remember)` as the parser resolves the pair; an exception from it leaves the frame to Python.
            #[new]
            fn new(exchange: String, resolve_symbol: pyo3::Py<pyo3::PyAny>) -> Self {
                Self { books: $crate::attached_books::AttachedBooks::new(exchange, resolve_symbol) }
            }

            /// Let the fast path update `symbol`'s book, kept by `sync` (a `BookSync`), while its
            /// frames come from `connection_id`; replaces an earlier attachment.
            fn attach(
                &mut self,
                py: pyo3::Python<'_>,
                symbol: &str,
                sync: pyo3::Bound<'_, pyo3::PyAny>,
                connection_id: &str,
            ) -> pyo3::PyResult<()> {
                self.books.attach(py, symbol, sync, connection_id)
            }

            /// Stop updating `symbol`'s book here (its frames go to the Python path).
            fn detach(&mut self, symbol: &str) {
                self.books.detach(symbol);
            }

            /// `(key, encoded BookDelta)` of an update applied to its attached book, or None (book untouched).
            fn apply<'py>(
                &mut self,
                py: pyo3::Python<'py>,
                frame: &[u8],
                receive_ts_ns: i64,
                connection_id: &str,
            ) -> pyo3::PyResult<Option<$crate::attached_books::KeyAndEvent<'py>>> {
                self.update(py, frame, receive_ts_ns, connection_id)
            }

            /// How many books are attached.
            fn __len__(&self) -> usize {
                self.books.len()
            }
        }
    };
}
pub(crate) use book_fast_path_class;
