//! Expressions: filters and predicates over table columns.
use crate::error::DeltaResult;
use crate::protocol::{Scalar, StructType};
#[derive(Debug, Clone)]
pub enum Expr {
    Column(String),
}
impl Expr {
    pub fn validate(&self, _s: &StructType) -> DeltaResult<()> {
        Ok(())
    }
    pub fn columns(&self) -> Vec<&str> {
        vec![]
    }
}
pub fn evaluate_predicate(_e: &Expr, b: &arrow::array::RecordBatch) -> DeltaResult<arrow::array::BooleanArray> {
    Ok(arrow::array::BooleanArray::from(vec![true; b.num_rows()]))
}
pub trait StatsProvider {
    fn min(&self, c: &str) -> Option<Scalar>;
    fn max(&self, c: &str) -> Option<Scalar>;
    fn null_count(&self, c: &str) -> Option<i64>;
    fn num_records(&self) -> Option<i64>;
}
pub fn can_skip_file(_e: &Expr, _s: &dyn StatsProvider) -> bool {
    false
}
pub struct JsonStats;
impl JsonStats {
    pub fn parse(_s: &str, _schema: &StructType) -> Option<Self> {
        None
    }
    pub fn min(&self, _c: &str) -> Option<Scalar> {
        None
    }
    pub fn max(&self, _c: &str) -> Option<Scalar> {
        None
    }
    pub fn null_count(&self, _c: &str) -> Option<i64> {
        None
    }
    pub fn num_records(&self) -> Option<i64> {
        None
    }
}
