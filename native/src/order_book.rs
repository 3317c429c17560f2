//! The Python `OrderBook`: one instrument's bids and asks as integer mantissas, with the OKX and
//! Kraken checksums of its top levels (`platform_streams.books.order_book` re-exports it).
//!
//! Prices and sizes are any Python int that fits a signed 128-bit integer; a larger one raises
//! `OverflowError` naming the value, never wraps. Levels are `(price, size)` pairs (tuples,
//! lists or any two-item iterable) given in lists, tuples or any iterable, as the sync rules
//! and tests pass them. Lists returned hold `(price, size)` tuples, best first.

use pyo3::create_exception;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList, PyTuple};

use crate::book_checksum::{self, LevelTextError as ChecksumTextError};
use crate::book_side::{BookSide, Level, NegativeLevel, SideKind};

create_exception!(tradeplat_native, InvalidLevel, PyValueError, "A level with a negative price or size.");
create_exception!(
    tradeplat_native,
    LevelTextError,
    PyValueError,
    "A book level that a checksum cannot spell: a digit would be dropped at the text's decimals, or a scale is out of range."
);

/// Bids and asks of one instrument at fixed scales; a level of size 0 is a removal.
///
/// Pure and synchronous: callers (the exchange sync rules) decide when a change is valid.
#[pyclass(module = "tradeplat_native")]
pub struct OrderBook {
    #[pyo3(get)]
    price_scale: i64,
    #[pyo3(get)]
    size_scale: i64,
    bids: BookSide,
    asks: BookSide,
}

#[pymethods]
impl OrderBook {
    #[new]
    fn new(price_scale: i64, size_scale: i64) -> Self {
        Self { price_scale, size_scale, bids: BookSide::new(SideKind::Bids), asks: BookSide::new(SideKind::Asks) }
    }

    /// Replace the whole book (a snapshot), in any level order; zero sizes are skipped.
    fn load(&mut self, bids: &Bound<'_, PyAny>, asks: &Bound<'_, PyAny>) -> PyResult<()> {
        let snapshot_error =
            |_: NegativeLevel| InvalidLevel::new_err("snapshot has a level with a negative price or size");
        self.bids.load(read_levels(bids)?).map_err(snapshot_error)?;
        self.asks.load(read_levels(asks)?).map_err(snapshot_error)
    }

    fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }

    /// Apply changed levels in order: each sets its price's size, 0 removes the level.
    fn apply(&mut self, bids: &Bound<'_, PyAny>, asks: &Bound<'_, PyAny>) -> PyResult<()> {
        apply_levels(&mut self.bids, bids)?;
        apply_levels(&mut self.asks, asks)
    }

    fn set_bid(&mut self, price: &Bound<'_, PyAny>, size: &Bound<'_, PyAny>) -> PyResult<()> {
        self.bids.set(read_int(price, "price")?, read_int(size, "size")?).map_err(invalid_level)
    }

    fn set_ask(&mut self, price: &Bound<'_, PyAny>, size: &Bound<'_, PyAny>) -> PyResult<()> {
        self.asks.set(read_int(price, "price")?, read_int(size, "size")?).map_err(invalid_level)
    }

    /// Highest bid as `(price, size)`, or None when there are no bids.
    fn best_bid<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.bids.best().map(|level| level_to_py(py, level)).transpose()
    }

    /// Lowest ask as `(price, size)`, or None when there are no asks.
    fn best_ask<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        self.asks.best().map(|level| level_to_py(py, level)).transpose()
    }

    /// The best `depth` bids, best (highest) first.
    fn top_bids<'py>(&self, py: Python<'py>, depth: isize) -> PyResult<Bound<'py, PyList>> {
        levels_to_py(py, &self.bids, kept_depth(depth))
    }

    /// The best `depth` asks, best (lowest) first.
    fn top_asks<'py>(&self, py: Python<'py>, depth: isize) -> PyResult<Bound<'py, PyList>> {
        levels_to_py(py, &self.asks, kept_depth(depth))
    }

    fn bids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_to_py(py, &self.bids, self.bids.len())
    }

    fn asks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        levels_to_py(py, &self.asks, self.asks.len())
    }

    /// Size at a bid price (0 when there is no such level).
    fn bid_size<'py>(&self, py: Python<'py>, price: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
        Ok(int_to_py(py, self.bids.size(read_int(price, "price")?)))
    }

    /// Size at an ask price (0 when there is no such level).
    fn ask_size<'py>(&self, py: Python<'py>, price: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
        Ok(int_to_py(py, self.asks.size(read_int(price, "price")?)))
    }

    /// True when the best bid is at or above the best ask (a locked book counts as crossed).
    fn is_crossed(&self) -> bool {
        match (self.bids.best(), self.asks.best()) {
            (Some(bid), Some(ask)) => bid.price >= ask.price,
            _ => false,
        }
    }

    /// Keep only the best `depth` levels on each side; returns how many levels were dropped.
    fn truncate(&mut self, depth: isize) -> usize {
        let depth = kept_depth(depth);
        self.bids.truncate(depth).len() + self.asks.truncate(depth).len()
    }

    /// Keep only the best `depth` levels on each side; returns the dropped bid and ask prices, worst first.
    fn truncate_levels<'py>(
        &mut self,
        py: Python<'py>,
        depth: isize,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        let depth = kept_depth(depth);
        let prices = |prices: Vec<i128>| PyList::new(py, prices.into_iter().map(|price| int_to_py(py, price)));
        Ok((prices(self.bids.truncate(depth))?, prices(self.asks.truncate(depth))?))
    }

    #[getter]
    fn bid_depth(&self) -> usize {
        self.bids.len()
    }

    #[getter]
    fn ask_depth(&self) -> usize {
        self.asks.len()
    }

    /// OKX's CRC32 of the best 25 bids and asks, as the signed 32-bit integer OKX sends.
    fn okx_checksum(&self) -> PyResult<i32> {
        book_checksum::okx_checksum(&self.bids, &self.asks, self.price_scale, self.size_scale).map_err(level_text_error)
    }

    /// Kraken v1's CRC32 of the best 10 asks then bids, written with the given decimals (unsigned).
    fn kraken_checksum(&self, price_text_scale: i64, size_text_scale: i64) -> PyResult<u32> {
        let scales = (self.price_scale, self.size_scale);
        book_checksum::kraken_checksum(&self.bids, &self.asks, scales, (price_text_scale, size_text_scale))
            .map_err(level_text_error)
    }

    fn __repr__(&self) -> String {
        let spell = |level: Option<Level>| {
            level.map_or("None".to_owned(), |level| format!("({}, {})", level.price, level.size))
        };
        format!(
            "OrderBook(bids={}, asks={}, best_bid={}, best_ask={})",
            self.bids.len(),
            self.asks.len(),
            spell(self.bids.best()),
            spell(self.asks.best())
        )
    }
}

/// How many levels a depth keeps: a depth of 0 or less keeps none, as slicing did in Python.
/// The exchange rule an update is verified by.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Verification {
    /// Truncate to `depth` levels a side; Kraken's CRC32 of the text at `text_scales` must equal `checksum`.
    Kraken { depth: usize, text_scales: (i64, i64), checksum: u32 },
    /// OKX's signed CRC32 of the best 25 levels must equal `checksum`.
    Okx { checksum: i32 },
    /// No checksum (Binance): the book must only not be crossed.
    Uncrossed,
}

/// What [`OrderBook::apply_verified`] did with an update.
pub(crate) enum VerifiedUpdate {
    /// Applied and verified: the prices truncation dropped (bids, asks), worst first.
    Applied(Vec<i128>, Vec<i128>),
    /// Not applied: the checksum failed, the book crossed, or a level could not be written for the
    /// checksum. The book is exactly as it was; the sync rule in Python decides what that means.
    Refused,
}

impl OrderBook {
    pub(crate) fn scales(&self) -> (i64, i64) {
        (self.price_scale, self.size_scale)
    }

    /// One update, all or nothing: apply the levels in order, keep the best levels the
    /// exchange's rule keeps, then require its checksum to match and the book not to be crossed.
    /// On any failure every change is undone.
    pub(crate) fn apply_verified(
        &mut self,
        bids: &[Level],
        asks: &[Level],
        verification: Verification,
    ) -> VerifiedUpdate {
        let depth = match verification {
            Verification::Kraken { depth, .. } => depth,
            Verification::Okx { .. } | Verification::Uncrossed => usize::MAX,
        };
        let mut undo: Vec<(SideKind, Level)> = Vec::with_capacity(bids.len() + asks.len());
        for (kind, levels) in [(SideKind::Bids, bids), (SideKind::Asks, asks)] {
            for level in levels {
                let side = self.side_mut(kind);
                let before = Level { price: level.price, size: side.size(level.price) };
                if side.set(level.price, level.size).is_err() {
                    self.undo(&undo, [].as_slice(), [].as_slice());
                    return VerifiedUpdate::Refused;
                }
                undo.push((kind, before));
            }
        }
        let beyond = |side: &BookSide| side.top(side.len()).skip(depth).collect::<Vec<Level>>();
        let (dropped_bids, dropped_asks) = (beyond(&self.bids), beyond(&self.asks));
        self.bids.truncate(depth);
        self.asks.truncate(depth);
        let checksum_matches = match verification {
            Verification::Kraken { text_scales, checksum, .. } => {
                book_checksum::kraken_checksum(&self.bids, &self.asks, self.scales(), text_scales)
                    .is_ok_and(|computed| computed == checksum)
            }
            Verification::Uncrossed => true,
            Verification::Okx { checksum } => {
                book_checksum::okx_checksum(&self.bids, &self.asks, self.price_scale, self.size_scale)
                    .is_ok_and(|computed| computed == checksum)
            }
        };
        let verified = checksum_matches && !self.is_crossed();
        if !verified {
            self.undo(&undo, &dropped_bids, &dropped_asks);
            return VerifiedUpdate::Refused;
        }
        let worst_first = |dropped: Vec<Level>| dropped.into_iter().rev().map(|level| level.price).collect();
        VerifiedUpdate::Applied(worst_first(dropped_bids), worst_first(dropped_asks))
    }

    fn side_mut(&mut self, kind: SideKind) -> &mut BookSide {
        match kind {
            SideKind::Bids => &mut self.bids,
            SideKind::Asks => &mut self.asks,
        }
    }

    /// Puts back the levels truncation dropped, then each changed level's earlier size, newest change first.
    fn undo(&mut self, changed: &[(SideKind, Level)], dropped_bids: &[Level], dropped_asks: &[Level]) {
        for (side, dropped) in [(&mut self.bids, dropped_bids), (&mut self.asks, dropped_asks)] {
            for level in dropped {
                side.set(level.price, level.size).expect("a level the book held is not negative");
            }
        }
        for (kind, before) in changed.iter().rev() {
            self.side_mut(*kind).set(before.price, before.size).expect("a level the book held is not negative");
        }
    }
}

fn kept_depth(depth: isize) -> usize {
    usize::try_from(depth).unwrap_or(0)
}

fn invalid_level(NegativeLevel(level): NegativeLevel) -> PyErr {
    InvalidLevel::new_err(format!("level ({}, {}) has a negative price or size", level.price, level.size))
}

fn level_text_error(error: ChecksumTextError) -> PyErr {
    LevelTextError::new_err(error.to_string())
}

fn apply_levels(side: &mut BookSide, levels: &Bound<'_, PyAny>) -> PyResult<()> {
    for_each_level(levels, |level| side.set(level.price, level.size).map_err(invalid_level))
}

fn read_levels(levels: &Bound<'_, PyAny>) -> PyResult<Vec<Level>> {
    let mut read = Vec::with_capacity(levels.len().unwrap_or(0));
    for_each_level(levels, |level| {
        read.push(level);
        Ok(())
    })?;
    Ok(read)
}

/// Calls `each` with every level of `levels` in order, stopping at the first error. Lists and
/// tuples (what the sync rules pass) are walked directly, anything else through `iter()`.
fn for_each_level(levels: &Bound<'_, PyAny>, mut each: impl FnMut(Level) -> PyResult<()>) -> PyResult<()> {
    if let Ok(list) = levels.cast::<PyList>() {
        list.iter().try_for_each(|level| each(read_level(&level)?))
    } else if let Ok(tuple) = levels.cast::<PyTuple>() {
        tuple.iter().try_for_each(|level| each(read_level(&level)?))
    } else {
        levels.try_iter()?.try_for_each(|level| each(read_level(&level?)?))
    }
}

/// A `(price, size)` pair: a tuple or list of two ints, or any iterable of exactly two.
fn read_level(level: &Bound<'_, PyAny>) -> PyResult<Level> {
    let pair = |price: &Bound<'_, PyAny>, size: &Bound<'_, PyAny>| {
        Ok(Level { price: read_int(price, "price")?, size: read_int(size, "size")? })
    };
    if let Ok(tuple) = level.cast::<PyTuple>() {
        if tuple.len() == 2 {
            return pair(&*tuple.get_borrowed_item(0)?, &*tuple.get_borrowed_item(1)?);
        }
    } else if let Ok(list) = level.cast::<PyList>() {
        if list.len() == 2 {
            return pair(&list.get_item(0)?, &list.get_item(1)?);
        }
    } else if let Ok(items) = level.try_iter() {
        let items = items.take(3).collect::<PyResult<Vec<_>>>()?;
        if let [price, size] = items.as_slice() {
            return pair(price, size);
        }
    }
    Err(PyValueError::new_err(format!("a book level is a (price, size) pair, not {}", level.repr()?)))
}

/// A Python int as an `i128`: ints past 64 bits take the slower path, ints past 128 bits are refused.
fn read_int(value: &Bound<'_, PyAny>, what: &str) -> PyResult<i128> {
    if let Ok(small) = value.extract::<i64>() {
        return Ok(small.into());
    }
    value.extract::<i128>().map_err(|error| {
        if error.is_instance_of::<PyOverflowError>(value.py()) {
            PyOverflowError::new_err(format!("{what} {value} does not fit a signed 128-bit integer"))
        } else {
            error
        }
    })
}

fn int_to_py(py: Python<'_>, value: i128) -> Bound<'_, PyInt> {
    match i64::try_from(value) {
        Ok(small) => small.into_pyobject(py),
        Err(_) => value.into_pyobject(py),
    }
    .unwrap_or_else(|never| match never {})
}

fn level_to_py(py: Python<'_>, level: Level) -> PyResult<Bound<'_, PyTuple>> {
    PyTuple::new(py, [int_to_py(py, level.price), int_to_py(py, level.size)])
}

fn levels_to_py<'py>(py: Python<'py>, side: &BookSide, depth: usize) -> PyResult<Bound<'py, PyList>> {
    let levels = side.top(depth).map(|level| level_to_py(py, level)).collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, levels)
}
