//! Lists of one kind of action held as Arrow batches and read one row at a time through a view:
//! the common shape of the active files and the tombstones of a snapshot.

use std::fmt;
use std::marker::PhantomData;

use arrow::array::RecordBatch;

/// A kind of row kept in an [`ActionList`]: says how one row is viewed.
pub trait ActionRow {
    /// A view of one row of a batch.
    type View<'a>;

    /// The view of row `row` of `batch`.
    fn view(batch: &RecordBatch, row: usize) -> Self::View<'_>;
}

/// Batches of one kind of action (`K`), without empty batches, and their total row count.
pub struct ActionList<K> {
    batches: Vec<RecordBatch>,
    len: usize,
    kind: PhantomData<K>,
}

impl<K: ActionRow> ActionList<K> {
    /// A list made of batches already in the schema of `K`.
    pub fn new(batches: Vec<RecordBatch>) -> Self {
        let batches: Vec<_> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
        let len = batches.iter().map(RecordBatch::num_rows).sum();
        Self {
            batches,
            len,
            kind: PhantomData,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The underlying batches.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Iterate over the rows.
    pub fn iter(&self) -> impl Iterator<Item = K::View<'_>> + '_ {
        self.batches
            .iter()
            .flat_map(|b| (0..b.num_rows()).map(move |row| K::view(b, row)))
    }
}

// Written by hand: derives would require `K` (a marker) to implement the traits.
impl<K> Default for ActionList<K> {
    fn default() -> Self {
        Self {
            batches: Vec::new(),
            len: 0,
            kind: PhantomData,
        }
    }
}

impl<K> Clone for ActionList<K> {
    fn clone(&self) -> Self {
        Self {
            batches: self.batches.clone(),
            len: self.len,
            kind: PhantomData,
        }
    }
}

impl<K> fmt::Debug for ActionList<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionList")
            .field("batches", &self.batches.len())
            .field("len", &self.len)
            .finish()
    }
}
