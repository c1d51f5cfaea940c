//! Which files an optimize rewrites, and in which groups: files grouped by partition, then
//! packed into bins of about the target size (compaction), taken whole (Z-order), or, for
//! clustering, the files not yet clustered packed into bins of a bounded size.

use std::collections::BTreeMap;

use crate::operations::matching::Candidate;

/// How files are chosen and grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Strategy {
    /// Small files and files with deletion vectors, packed into bins of about the target size.
    Compact,
    /// Every file of a partition, in one bin.
    ZOrder,
    /// The files [`cluster_groups`] picks, in bins of at most `max_bin_size` bytes.
    Cluster {
        /// The most bytes of input files in one bin (each bin is sorted in memory).
        max_bin_size: i64,
    },
}

/// What the planner needs to know of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    /// Its size in bytes.
    pub size: i64,
    /// It has a deletion vector.
    pub deletion_vector: bool,
    /// It was written clustered (`clusteringProvider` set).
    pub clustered: bool,
}

impl Shape {
    fn of(file: &Candidate) -> Self {
        Self {
            size: file.add.size,
            deletion_vector: file.add.deletion_vector.is_some(),
            clustered: file.add.clustering_provider.is_some(),
        }
    }
}

/// Files of one partition rewritten together into new files.
pub(super) struct Bin {
    /// The files, in insertion order (modification time, then path).
    pub files: Vec<Candidate>,
}

/// What the planner chose: the bins, and how many files it looked at.
pub(super) struct Plan {
    /// The groups to rewrite.
    pub bins: Vec<Bin>,
    /// Files considered (those in the partitions selected).
    pub considered_files: usize,
    /// Partitions with at least one bin.
    pub partitions: usize,
}

/// Group `files` by partition and choose what to rewrite.
pub(super) fn plan(files: Vec<Candidate>, strategy: Strategy, target_size: i64) -> Plan {
    let considered_files = files.len();
    let mut partitions: BTreeMap<Vec<(String, Option<String>)>, Vec<Candidate>> = BTreeMap::new();
    for file in files {
        let mut key: Vec<_> = file
            .add
            .partition_values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        key.sort();
        partitions.entry(key).or_default().push(file);
    }
    let mut bins = Vec::new();
    let mut optimized = 0;
    for (_, mut files) in partitions {
        files.sort_by(|a, b| (a.add.modification_time, &a.add.path).cmp(&(b.add.modification_time, &b.add.path)));
        let before = bins.len();
        let shapes: Vec<Shape> = files.iter().map(Shape::of).collect();
        let groups = match strategy {
            Strategy::Compact => compaction_groups(&shapes, target_size),
            Strategy::ZOrder => vec![(0..files.len()).collect()],
            Strategy::Cluster { max_bin_size } => cluster_groups(&shapes, target_size, max_bin_size),
        };
        let mut slots: Vec<Option<Candidate>> = files.into_iter().map(Some).collect();
        for group in groups {
            let files = group.into_iter().filter_map(|i| slots[i].take()).collect();
            bins.push(Bin { files });
        }
        if bins.len() > before {
            optimized += 1;
        }
    }
    Plan {
        bins,
        considered_files,
        partitions: optimized,
    }
}

/// Pack the files of one partition, in insertion order, into groups of about `target_size`
/// bytes (indices into `files`). Files at least the target
/// size without a deletion vector are already compact and left out; consecutive small files
/// fill a group until the next would overflow it. A group of one file without a deletion vector
/// is dropped: rewriting it gains nothing.
pub(super) fn compaction_groups(files: &[Shape], target_size: i64) -> Vec<Vec<usize>> {
    let chosen = files
        .iter()
        .enumerate()
        .filter(|(_, f)| f.size < target_size || f.deletion_vector)
        .map(|(i, _)| i);
    let mut groups = pack(files, chosen, target_size);
    groups.retain(|g| g.len() > 1 || files[g[0]].deletion_vector);
    groups
}

/// The incremental clustering policy, for the files of one partition in insertion order: a
/// clustered file of at least a quarter of the target size (clustering writes files of half the
/// target or more, unless all it had was smaller; the margin allows for sorted data compressing
/// better) without a deletion vector is settled and left
/// alone; every other file (new, unclustered data; small clustered files, such as the last file
/// of a previous clustering; files with deletion vectors, whose deleted rows are dropped) is
/// clustered again, packed into groups of at most `max_bin_size` bytes, each sorted on its own.
/// A group of one clustered file without a deletion vector is dropped: it is clustered already,
/// so clustering twice commits nothing the second time.
pub(super) fn cluster_groups(files: &[Shape], target_size: i64, max_bin_size: i64) -> Vec<Vec<usize>> {
    let settled = |f: &Shape| f.clustered && !f.deletion_vector && f.size.saturating_mul(4) >= target_size;
    let chosen = files.iter().enumerate().filter(|(_, f)| !settled(f)).map(|(i, _)| i);
    let mut groups = pack(files, chosen, max_bin_size);
    groups.retain(|g| g.len() > 1 || !files[g[0]].clustered || files[g[0]].deletion_vector);
    groups
}

/// Consecutive `chosen` files in groups of at most `limit` bytes (a file larger than the limit
/// alone).
fn pack(files: &[Shape], chosen: impl Iterator<Item = usize>, limit: i64) -> Vec<Vec<usize>> {
    let mut groups = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_size = 0i64;
    for i in chosen {
        let size = files[i].size;
        if !current.is_empty() && current_size.saturating_add(size) > limit {
            groups.push(std::mem::take(&mut current));
            current_size = 0;
        }
        current.push(i);
        current_size = current_size.saturating_add(size);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::{Shape, cluster_groups, compaction_groups};

    fn shapes(files: &[(i64, bool)]) -> Vec<Shape> {
        files
            .iter()
            .map(|&(size, deletion_vector)| Shape {
                size,
                deletion_vector,
                clustered: false,
            })
            .collect()
    }

    #[test]
    fn small_files_fill_groups_up_to_the_target() {
        let files = shapes(&[(30, false), (30, false), (30, false), (30, false), (30, false)]);
        assert_eq!(compaction_groups(&files, 100), vec![vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn large_files_and_lone_small_files_are_skipped() {
        let files = shapes(&[(150, false), (40, false), (100, false)]);
        assert!(compaction_groups(&files, 100).is_empty());
    }

    #[test]
    fn a_file_with_deletion_vector_is_rewritten_alone_or_large() {
        assert_eq!(compaction_groups(&shapes(&[(10, true)]), 100), vec![vec![0]]);
        assert_eq!(
            compaction_groups(&shapes(&[(500, true), (500, false)]), 100),
            vec![vec![0]]
        );
    }

    #[test]
    fn clustering_leaves_settled_files_and_groups_the_rest() {
        let file = |size, clustered, deletion_vector| Shape {
            size,
            deletion_vector,
            clustered,
        };
        let files = [
            file(100, true, false), // settled
            file(30, true, false),  // settled: at least a quarter of the target
            file(20, true, false),  // small clustered: clustered again
            file(500, false, false),
            file(10, false, false),
            file(300, true, true), // deleted rows to drop
        ];
        assert_eq!(cluster_groups(&files, 100, 520), vec![vec![2, 3], vec![4, 5]]);
        // A lone new file is clustered; a lone clustered file is not rewritten again.
        assert_eq!(cluster_groups(&[file(10, false, false)], 100, 550), vec![vec![0]]);
        assert!(cluster_groups(&[file(10, true, false), file(100, true, false)], 100, 550).is_empty());
    }
}
