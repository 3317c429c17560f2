//! The OKX book-update fast path: an `update` push of a `books`/`books-l2-tbt`/`books50-l2-tbt`
//! channel applied to its instrument's live book and turned into the Kafka key and the encoded
//! canonical `BookDelta`, byte for byte what the Python parser, `OkxBookSync` and the encoder give.
//!
//! Taken only when nothing is in doubt: the book is attached, its sync rule still has it live and
//! verifies checksums, the push comes from the attached connection, continues the book
//! (`prevSeqId`), carries a checksum, and applies with that checksum matching and the book
//! uncrossed. Anything else returns None with the book untouched, for the Python path.

use pyo3::intern;
use pyo3::prelude::*;

use crate::attached_books::{AttachedBooks, KeyAndEvent, book_fast_path_class, mantissa_levels};
use crate::canonical_book_delta::CanonicalBookDelta;
use crate::msgpack_wire::MAX_WIRE_INT;
use crate::okx_book_messages::book_update;
use crate::order_book::{Verification, VerifiedUpdate};
use crate::timestamps::NS_PER_MS;

/// OKX book updates → `(key, encoded BookDelta)` for attached books; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct OkxBookUpdates {
    books: AttachedBooks,
}

book_fast_path_class!(OkxBookUpdates);

impl OkxBookUpdates {
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
        let Some(checksum) = update.checksum.and_then(|checksum| i32::try_from(checksum).ok()) else {
            return Ok(None);
        };
        let Some((scales, attached)) = self.books.live_book(py, update.inst_id, ("", ""), connection_id)? else {
            return Ok(None);
        };
        if attached.sync_value::<bool>(py, intern!(py, "verify_checksums"))? != Some(true) {
            return Ok(None);
        }
        let prev_sequence = i128::from(update.prev_seq_id.unwrap_or(0));
        if prev_sequence != 0 && attached.sync_value::<i128>(py, intern!(py, "last_sequence"))? != Some(prev_sequence) {
            return Ok(None);
        }
        let (Some(bids), Some(asks)) = (
            mantissa_levels(update.bids.iter().copied(), scales.price_scale, scales.size_scale),
            mantissa_levels(update.asks.iter().copied(), scales.price_scale, scales.size_scale),
        ) else {
            return Ok(None);
        };
        let exchange_ts_ns = u128::from(update.ts_ms) * NS_PER_MS.unsigned_abs();
        let Some(exchange_ts_ns) = i128::try_from(exchange_ts_ns).ok().filter(|&ns| ns <= MAX_WIRE_INT) else {
            return Ok(None);
        };
        let Ok(mut book) = attached.book.bind(py).try_borrow_mut() else {
            return Ok(None);
        };
        if book.scales() != (i64::from(scales.price_scale), i64::from(scales.size_scale)) {
            return Ok(None);
        }
        let VerifiedUpdate::Applied(..) = book.apply_verified(&bids, &asks, Verification::Okx { checksum }) else {
            return Ok(None);
        };
        drop(book);
        let sequence = update.seq_id.map_or(i128::from(receive_ts_ns), i128::from);
        let delta = CanonicalBookDelta {
            exchange_ts_ns,
            receive_ts_ns: i128::from(receive_ts_ns),
            sequence,
            first_sequence: sequence,
            prev_sequence,
            bids,
            asks,
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        attached.publish(py, &delta, sequence).map(Some)
    }
}
