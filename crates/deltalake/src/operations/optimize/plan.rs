//! Which files an optimize rewrites, and in which groups: files grouped by partition, then
//! packed into bins of about the target size (compaction) or taken whole (Z-order).

use std::collections::BTreeMap;

use super::OptimizeType;
use crate::operations::matching::Candidate;

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
pub(super) fn plan(files: Vec<Candidate>, kind: &OptimizeType, target_size: i64) -> Plan {
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
        match kind {
            OptimizeType::Compact => {
                let shapes: Vec<(i64, bool)> = files
                    .iter()
                    .map(|f| (f.add.size, f.add.deletion_vector.is_some()))
                    .collect();
                let groups = compaction_groups(&shapes, target_size);
                let mut slots: Vec<Option<Candidate>> = files.into_iter().map(Some).collect();
                for group in groups {
                    let files = group.into_iter().filter_map(|i| slots[i].take()).collect();
                    bins.push(Bin { files });
                }
            }
            OptimizeType::ZOrder(_) => bins.push(Bin { files }),
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

/// Pack the files of one partition, given as `(size, has deletion vector)` in insertion order,
/// into groups of about `target_size` bytes (indices into `files`). Files at least the target
/// size without a deletion vector are already compact and left out; consecutive small files
/// fill a group until the next would overflow it. A group of one file without a deletion vector
/// is dropped: rewriting it gains nothing.
pub(super) fn compaction_groups(files: &[(i64, bool)], target_size: i64) -> Vec<Vec<usize>> {
    let mut groups = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut current_size = 0i64;
    for (i, &(size, has_dv)) in files.iter().enumerate() {
        if size >= target_size && !has_dv {
            continue;
        }
        if !current.is_empty() && current_size.saturating_add(size) > target_size {
            groups.push(std::mem::take(&mut current));
            current_size = 0;
        }
        current.push(i);
        current_size = current_size.saturating_add(size);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups.retain(|g| g.len() > 1 || files[g[0]].1);
    groups
}

#[cfg(test)]
mod tests {
    use super::compaction_groups;

    #[test]
    fn small_files_fill_groups_up_to_the_target() {
        let files = [(30, false), (30, false), (30, false), (30, false), (30, false)];
        assert_eq!(compaction_groups(&files, 100), vec![vec![0, 1, 2], vec![3, 4]]);
    }

    #[test]
    fn large_files_and_lone_small_files_are_skipped() {
        let files = [(150, false), (40, false), (100, false)];
        assert!(compaction_groups(&files, 100).is_empty());
    }

    #[test]
    fn a_file_with_deletion_vector_is_rewritten_alone_or_large() {
        assert_eq!(compaction_groups(&[(10, true)], 100), vec![vec![0]]);
        assert_eq!(compaction_groups(&[(500, true), (500, false)], 100), vec![vec![0]]);
    }
}
