//! One side of an order book: price levels as integer mantissas, best first, no Python.
//!
//! The levels live in a `VecDeque` sorted best first (bids by falling price, asks by rising
//! price). Most changes land near the top, and a deque moves only the shorter part of itself on
//! an insertion or a removal, so a change at the top moves a few levels while dropping the worst
//! levels (Kraken's truncation after every update) moves none.

use std::cmp::Ordering;
use std::collections::VecDeque;

/// A price level: its price and the size resting there, mantissas at the book's scales.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub price: i128,
    pub size: i128,
}

/// A level with a negative price or size; the book refuses it and is left as the earlier levels made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegativeLevel(pub Level);

/// Bids or asks: which way is better decides the order of the levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SideKind {
    Bids,
    Asks,
}

/// The levels of one side, best first.
#[derive(Debug, Clone)]
pub struct BookSide {
    kind: SideKind,
    levels: VecDeque<Level>,
}

impl BookSide {
    pub fn new(kind: SideKind) -> Self {
        Self { kind, levels: VecDeque::new() }
    }

    /// How `price` ranks against `other`: `Less` when it is the better price of this side.
    fn rank(&self, price: i128, other: i128) -> Ordering {
        match self.kind {
            SideKind::Bids => other.cmp(&price),
            SideKind::Asks => price.cmp(&other),
        }
    }

    /// The index of `price`'s level, or where it would go.
    fn search(&self, price: i128) -> Result<usize, usize> {
        self.levels.binary_search_by(|level| self.rank(level.price, price))
    }

    /// Sets the size at `price`; a size of 0 removes the level (a no-op when there is none).
    pub fn set(&mut self, price: i128, size: i128) -> Result<(), NegativeLevel> {
        if size == 0 {
            if let Ok(index) = self.search(price) {
                self.levels.remove(index);
            }
            return Ok(());
        }
        if size < 0 || price < 0 {
            return Err(NegativeLevel(Level { price, size }));
        }
        match self.search(price) {
            Ok(index) => self.levels[index].size = size,
            Err(index) => self.levels.insert(index, Level { price, size }),
        }
        Ok(())
    }

    /// Replaces every level (a snapshot, in any order): zero sizes are skipped and the last
    /// size given for a price wins. Left unchanged when a kept level is negative.
    pub fn load(&mut self, mut levels: Vec<Level>) -> Result<(), NegativeLevel> {
        levels.retain(|level| level.size != 0);
        levels.sort_by(|a, b| self.rank(a.price, b.price)); // stable: repeats of a price stay in order
        let mut kept: VecDeque<Level> = VecDeque::with_capacity(levels.len());
        for level in levels {
            match kept.back_mut() {
                Some(last) if last.price == level.price => *last = level,
                _ => kept.push_back(level),
            }
        }
        if let Some(negative) = kept.iter().find(|level| level.price < 0 || level.size < 0) {
            return Err(NegativeLevel(*negative));
        }
        self.levels = kept;
        Ok(())
    }

    pub fn clear(&mut self) {
        self.levels.clear();
    }

    pub fn best(&self) -> Option<Level> {
        self.levels.front().copied()
    }

    /// The best `depth` levels (all of them when there are fewer), best first.
    pub fn top(&self, depth: usize) -> impl ExactSizeIterator<Item = Level> + '_ {
        self.levels.iter().take(depth).copied()
    }

    /// The size at `price`, 0 when there is no such level.
    pub fn size(&self, price: i128) -> i128 {
        self.search(price).map_or(0, |index| self.levels[index].size)
    }

    pub fn len(&self) -> usize {
        self.levels.len()
    }

    /// Drops the levels beyond the best `depth`; returns their prices, worst first.
    pub fn truncate(&mut self, depth: usize) -> Vec<i128> {
        let excess = self.levels.len().saturating_sub(depth);
        let mut dropped = Vec::with_capacity(excess);
        for _ in 0..excess {
            dropped.extend(self.levels.pop_back().map(|level| level.price));
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prices(side: &BookSide) -> Vec<i128> {
        side.top(side.len()).map(|level| level.price).collect()
    }

    #[test]
    fn bids_fall_and_asks_rise_from_the_best() {
        let mut bids = BookSide::new(SideKind::Bids);
        let mut asks = BookSide::new(SideKind::Asks);
        for price in [5, 9, 1, 7] {
            bids.set(price, 1).unwrap();
            asks.set(price, 1).unwrap();
        }
        assert_eq!(prices(&bids), [9, 7, 5, 1]);
        assert_eq!(prices(&asks), [1, 5, 7, 9]);
        assert_eq!(bids.best(), Some(Level { price: 9, size: 1 }));
        assert_eq!(bids.truncate(2), [1, 5]); // worst first
        assert_eq!(asks.truncate(0), [9, 7, 5, 1]);
        assert_eq!((bids.len(), asks.len()), (2, 0));
    }

    #[test]
    fn zero_removes_and_negative_is_refused() {
        let mut bids = BookSide::new(SideKind::Bids);
        bids.set(10, 3).unwrap();
        bids.set(10, 4).unwrap();
        assert_eq!(bids.size(10), 4);
        bids.set(11, 0).unwrap(); // absent: a no-op
        bids.set(-1, 0).unwrap(); // a removal is never refused
        assert_eq!(bids.set(-1, 2), Err(NegativeLevel(Level { price: -1, size: 2 })));
        assert_eq!(bids.set(1, -2), Err(NegativeLevel(Level { price: 1, size: -2 })));
        bids.set(10, 0).unwrap();
        assert_eq!((bids.len(), bids.size(10), bids.size(i128::MIN)), (0, 0, 0));
    }

    #[test]
    fn a_snapshot_keeps_the_last_non_zero_size_of_a_price() {
        let level = |price, size| Level { price, size };
        let mut asks = BookSide::new(SideKind::Asks);
        asks.load(vec![level(3, 1), level(2, 5), level(3, 0), level(3, 2), level(4, 0)]).unwrap();
        assert_eq!(asks.top(9).collect::<Vec<_>>(), [level(2, 5), level(3, 2)]);
        // only the kept levels are checked, as the Python book did; a refused snapshot changes nothing
        asks.load(vec![level(-3, 0), level(7, -1), level(7, 1)]).unwrap();
        assert_eq!(asks.load(vec![level(8, 1), level(-3, 1)]), Err(NegativeLevel(level(-3, 1))));
        assert_eq!(asks.top(9).collect::<Vec<_>>(), [level(7, 1)]);
    }
}
