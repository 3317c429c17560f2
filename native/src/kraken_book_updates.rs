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

use pyo3::intern;
use pyo3::prelude::*;

use crate::attached_books::{AttachedBooks, KeyAndEvent, book_fast_path_class, mantissa_levels};
use crate::book_side::Level;
use crate::canonical_book_delta::CanonicalBookDelta;
use crate::kraken_book_messages::{BookUpdate, TextLevel, book_update, seconds_text_to_ns, text_scale};
use crate::msgpack_wire::MAX_WIRE_INT;
use crate::order_book::{Verification, VerifiedUpdate};

/// Kraken v1 book updates → `(key, encoded BookDelta)` for attached books; one per parser.
///
/// `resolve_symbol(pair, price_text, size_text)` returns `(symbol, price_scale, size_scale,
/// remember)` as the parser resolves the pair; an exception from it leaves the frame to Python.
#[pyclass(module = "tradeplat_native")]
pub struct KrakenBookUpdates {
    books: AttachedBooks,
}

book_fast_path_class!(KrakenBookUpdates);

impl KrakenBookUpdates {
    /// `(key, encoded BookDelta)` of an update applied to its attached book, or None (book untouched).
    fn update<'py>(
        &mut self,
        py: Python<'py>,
        frame: &[u8],
        receive_ts_ns: i64,
        connection_id: &str,
    ) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(update) = book_update(frame) else {
            return Ok(None);
        };
        let first = first_level(&update);
        let Some((scales, attached)) =
            self.books.live_book(py, update.pair, (first.price, first.volume), connection_id)?
        else {
            return Ok(None);
        };
        if attached.sync_value::<usize>(py, intern!(py, "depth"))? != Some(update.depth) {
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
        let Ok(mut book) = attached.book.bind(py).try_borrow_mut() else {
            return Ok(None);
        };
        if book.scales() != (i64::from(scales.price_scale), i64::from(scales.size_scale)) {
            return Ok(None);
        }
        let verification = Verification::Kraken {
            depth: update.depth,
            text_scales: (text_scale(first.price), text_scale(first.volume)),
            checksum: update.checksum,
        };
        let VerifiedUpdate::Applied(dropped_bids, dropped_asks) = book.apply_verified(&bids, &asks, verification)
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
        attached.publish(py, &delta, receive).map(Some)
    }
}

fn first_level<'a>(update: &BookUpdate<'a>) -> TextLevel<'a> {
    *update.bids.first().or(update.asks.first()).expect("an update has at least one level")
}

fn levels(text: &[TextLevel<'_>], price_scale: u32, size_scale: u32) -> Option<Vec<Level>> {
    mantissa_levels(text.iter().map(|level| (level.price, level.volume)), price_scale, size_scale)
}

/// The newest level time (every time validated), within what the wire format carries.
fn newest_time(update: &BookUpdate<'_>) -> Option<i128> {
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
