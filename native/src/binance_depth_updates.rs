//! The Binance depth-diff fast path: a combined-stream `depthUpdate` applied to its symbol's live,
//! bridged book and turned into the Kafka key and the encoded canonical `BookDelta`, byte for byte
//! what the Python parser, `BinanceBookSync` and the encoder give.
//!
//! Taken only when nothing is in doubt: the book is attached, its sync rule has it live and bridged
//! to its snapshot, the diff comes from the attached connection, is newer than the book and starts
//! where the previous one ended (`U == u + 1`, and `pu == u` where sent), and applies without
//! crossing the book. Anything else (a stale diff, a gap, a diff before the snapshot) returns None
//! with the book untouched, for the Python path.

use pyo3::intern;
use pyo3::prelude::*;

use crate::attached_books::{AttachedBooks, KeyAndEvent, book_fast_path_class, mantissa_levels};
use crate::binance_depth_messages::depth_diff;
use crate::canonical_book_delta::CanonicalBookDelta;
use crate::msgpack_wire::MAX_WIRE_INT;
use crate::order_book::{Verification, VerifiedUpdate};
use crate::timestamps::NS_PER_MS;

/// Binance depth diffs → `(key, encoded BookDelta)` for attached books; one per parser.
#[pyclass(module = "tradeplat_native")]
pub struct BinanceDepthUpdates {
    books: AttachedBooks,
}

book_fast_path_class!(BinanceDepthUpdates);

impl BinanceDepthUpdates {
    /// `(key, encoded BookDelta)` of a diff applied to its attached book, or None (book untouched).
    fn update<'py>(
        &mut self,
        py: Python<'py>,
        frame: &[u8],
        receive_ts_ns: i64,
        connection_id: &str,
    ) -> PyResult<Option<KeyAndEvent<'py>>> {
        let Some(diff) = depth_diff(frame) else {
            return Ok(None);
        };
        let first = diff.bids.first().or(diff.asks.first()).copied().unwrap_or(("", ""));
        let Some((scales, attached)) = self.books.live_book(py, diff.symbol, first, connection_id)? else {
            return Ok(None);
        };
        if attached.sync_value::<bool>(py, intern!(py, "bridged"))? != Some(true) {
            return Ok(None);
        }
        let Some(last) = attached.sync_value::<i64>(py, intern!(py, "last_sequence"))? else {
            return Ok(None);
        };
        let continues = diff.final_update_id > last
            && last.checked_add(1) == Some(diff.first_update_id)
            && (diff.previous_final_update_id == 0 || diff.previous_final_update_id == last);
        if !continues {
            return Ok(None);
        }
        let (Some(bids), Some(asks)) = (
            mantissa_levels(diff.bids.iter().copied(), scales.price_scale, scales.size_scale),
            mantissa_levels(diff.asks.iter().copied(), scales.price_scale, scales.size_scale),
        ) else {
            return Ok(None);
        };
        let exchange_ts_ns = i128::from(diff.event_time_ms) * NS_PER_MS;
        if !(i128::from(i64::MIN)..=MAX_WIRE_INT).contains(&exchange_ts_ns) {
            return Ok(None);
        }
        let Ok(mut book) = attached.book.bind(py).try_borrow_mut() else {
            return Ok(None);
        };
        let has_levels = !(bids.is_empty() && asks.is_empty());
        if has_levels && book.scales() != (i64::from(scales.price_scale), i64::from(scales.size_scale)) {
            return Ok(None);
        }
        let VerifiedUpdate::Applied(..) = book.apply_verified(&bids, &asks, Verification::Uncrossed) else {
            return Ok(None);
        };
        drop(book);
        let delta = CanonicalBookDelta {
            exchange_ts_ns,
            receive_ts_ns: i128::from(receive_ts_ns),
            sequence: i128::from(diff.final_update_id),
            first_sequence: i128::from(diff.first_update_id),
            prev_sequence: i128::from(diff.previous_final_update_id),
            bids,
            asks,
            price_scale: scales.price_scale,
            size_scale: scales.size_scale,
        };
        attached.publish(py, &delta, i128::from(diff.final_update_id)).map(Some)
    }
}
