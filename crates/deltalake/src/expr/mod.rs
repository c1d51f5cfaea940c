//! Expressions: filters and predicates over table columns.
