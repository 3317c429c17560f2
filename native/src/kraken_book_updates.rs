//! The Kraken v1 book-update fast path: a raw update frame applied to its pair's live book and
//! turned into what the normaliser publishes, the Kafka key and the encoded canonical
//! `BookDelta`, byte for byte what the Python parser, sync rule and encoder give.
//!
//! It takes an update only when nothing is in doubt: the pair's book is attached (the Python
//! sync rule made it live), still live at the depth the frame's channel states, fed by the same
//! connection, at the parser's scales, and the update applies with a matching checksum and an
//! uncrossed book. Anything else (and every malformed frame) returns None with the book
//! untouched, and the Python path handles the frame as it always has: resyncs and dead letters
//! keep one definition.

use std::collections::HashMap;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::book_side::Level;
use crate::canonical_book_delta::{self, CanonicalBookDelta};
use crate::decimal_text::mantissa_at_scale;
use crate::kraken_book_messages::{TextLevel, book_update, seconds_text_to_ns, text_scale};
use crate::msgpack_wire::MAX_WIRE_INT;
use crate::order_book::{OrderBook, VerifiedUpdate};

/// Kraken v1 book updates → `(key, encoded BookDelta)` for attached books; one per parser.
///
/// `resolve_symbol(pair, price_text, size_text)` returns `(symbol, price_scale, size_scale,
/// remember)` as the parser resolves the pair; an exception from it leaves the frame to Python.
#[pyclass(module = "tradeplat_native")]
pub struct KrakenBookUpdates {
    exchange: String,
    resolve_symbol: Py<PyAny>,
    pairs: HashMap<Box<str>, PairScales>,
    books: HashMap<Box<str>, AttachedBook>,
}

/// A pair's normalised symbol and the scales its text is read at.
struct PairScales {
    symbol: Box<str>,
    price_scale: u32,
    size_scale: u32,
}

/// A live book the fast path may update: its sync rule (read for `live`, `depth` and `book`, and
/// given `last_sequence`), the book itself, and what every event of it shares.
struct AttachedBook {
    sync: Py<PyAny>,
    book: Py<OrderBook>,
    connection_id: Box<str>,
    key: Py<PyString>,
    event_prefix: Vec<u8>,
}

type KeyAndEvent<'py> = (Py<PyString>, Bound<'py, PyBytes>);

#[pymethods]
impl KrakenBookUpdates {
    #[new]
    fn new(exchange: String, resolve_symbol: Py<PyAny>) -> Self {
        Self { exchange, resolve_symbol, pairs: HashMap::new(), books: HashMap::new() }
    }

    /// Let the fast path update `symbol`'s book, kept by `sync` (a `BookSync`), while its frames
    /// come from `connection_id`; replaces an earlier attachment.
    fn attach(&mut self, py: Python<'_>, symbol: &str, sync: Bound<'_, PyAny>, connection_id: &str) -> PyResult<()> {
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

    /// Stop updating `symbol`'s book here (its frames go to the Python path).
    fn detach(&mut self, symbol: &str) {
        self.books.remove(symbol);
    }

    /// `(key, encoded BookDelta)` of an update applied to its attached book, or None (book untouched).
    fn apply<'py>(
        &mut self,
        py: Python<'py>,
        frame: &[u8],
        receive_ts_ns: i64,
        connection_id: &str,
    ) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(update) = book_update(frame) else {
            return Ok(None);
        };
        let Some(scales) =
            pair_scales(&mut self.pairs, self.resolve_symbol.bind(py), update.pair, first_level(&update))
        else {
            return Ok(None);
        };
        let Some(attached) = self.books.get(scales.symbol.as_ref()) else {
            return Ok(None);
        };
        if attached.connection_id.as_ref() != connection_id || !attached.is_current(py, update.depth)? {
            return Ok(None);
        }
        let (Some(bids), Some(asks)) = (
            levels(&update.bids, scales.price_scale, scales.size_scale),
            levels(&update.asks, scales.price_scale, scales.size_scale),
        ) else {
            return Ok(None);
        };
        let Some(newest_ns) = newest_time(&update) else {
            return Ok(None);
        };
        let first = first_level(&update);
        let text_scales = (text_scale(first.price), text_scale(first.volume));
        let Ok(mut book) = attached.book.bind(py).try_borrow_mut() else {
            return Ok(None);
        };
        if book.scales() != (i64::from(scales.price_scale), i64::from(scales.size_scale)) {
            return Ok(None);
        }
        let VerifiedUpdate::Applied(dropped_bids, dropped_asks) =
            book.apply_verified(&bids, &asks, update.depth, text_scales, update.checksum)
        else {
            return Ok(None);
        };
        drop(book);
        let receive = i128::from(receive_ts_ns);
        let delta = CanonicalBookDelta {
            exchange_ts_ns: newest_ns,
            receive_ts_ns: receive,
            sequence: receive,
            first_sequence: receive,
            prev_sequence: 0,
            bids: with_removals(bids, dropped_bids),
            asks: with_removals(asks, dropped_asks),
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        attached.sync.bind(py).setattr(intern!(py, "last_sequence"), receive_ts_ns)?;
        let event = canonical_book_delta::encode(&attached.event_prefix, &delta);
        Ok(Some((attached.key.clone_ref(py), PyBytes::new(py, &event))))
    }

    /// How many books are attached.
    fn __len__(&self) -> usize {
        self.books.len()
    }
}

/// The pair's symbol and scales, asked of Python once per pair (each time while it says not to remember).
fn pair_scales<'m>(
    pairs: &'m mut HashMap<Box<str>, PairScales>,
    resolve_symbol: &Bound<'_, PyAny>,
    pair: &str,
    first: TextLevel<'_>,
) -> Option<&'m PairScales> {
    if !pairs.contains_key(pair) {
        let resolved = resolve_symbol.call1((pair, first.price, first.volume)).ok()?;
        let (symbol, price_scale, size_scale, remember): (String, u32, u32, bool) = resolved.extract().ok()?;
        if !remember {
            return None; // scales read off this frame's text: the Python path reads it
        }
        pairs.insert(pair.into(), PairScales { symbol: symbol.into(), price_scale, size_scale });
    }
    pairs.get(pair)
}

impl AttachedBook {
    /// Whether the sync rule still serves this book live, at `depth`.
    fn is_current(&self, py: Python<'_>, depth: usize) -> PyResult<bool> {
        let sync = self.sync.bind(py);
        Ok(sync.getattr(intern!(py, "live"))?.is_truthy()?
            && sync.getattr(intern!(py, "depth"))?.extract::<usize>().is_ok_and(|kept| kept == depth)
            && sync.getattr(intern!(py, "book"))?.is(self.book.bind(py)))
    }
}

fn first_level<'a>(update: &crate::kraken_book_messages::BookUpdate<'a>) -> TextLevel<'a> {
    *update.bids.first().or(update.asks.first()).expect("an update has at least one level")
}

fn levels(text: &[TextLevel<'_>], price_scale: u32, size_scale: u32) -> Option<Vec<Level>> {
    text.iter()
        .map(|level| {
            let price = mantissa_at_scale(level.price, price_scale).ok()?;
            let size = mantissa_at_scale(level.volume, size_scale).ok()?;
            Some(Level { price: price.into(), size: size.into() })
        })
        .collect()
}

/// The newest level time (every time validated), within what the wire format carries.
fn newest_time(update: &crate::kraken_book_messages::BookUpdate<'_>) -> Option<i128> {
    let mut newest = 0u128;
    for level in update.bids.iter().chain(&update.asks) {
        newest = newest.max(seconds_text_to_ns(level.time)?);
    }
    i128::try_from(newest).ok().filter(|&ns| ns <= MAX_WIRE_INT)
}

/// The applied levels followed by a removal for each level truncation dropped, as the sync rule publishes them.
fn with_removals(mut levels: Vec<Level>, dropped: Vec<i128>) -> Vec<Level> {
    levels.extend(dropped.into_iter().map(|price| Level { price, size: 0 }));
    levels
}
