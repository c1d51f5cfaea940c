//! Filters given from Python: a SQL predicate, or DNF tuples already normalised by the Python side
//! into a list of conjunctions of `(column, op, value)`.

use deltalake::bindings::Filter;
use deltalake::expr::DnfValue;
use deltalake::protocol::{PrimitiveType, Scalar};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyString, PyTuple};

/// A filter as passed by `deltalake.table`.
#[derive(FromPyObject)]
pub enum PyFilter {
    /// A SQL predicate.
    Sql(String),
    /// An OR of ANDs of `(column, op, value)` terms.
    Dnf(Vec<Vec<(String, String, PyFilterValue)>>),
}

impl From<PyFilter> for Filter {
    fn from(filter: PyFilter) -> Self {
        match filter {
            PyFilter::Sql(sql) => Filter::Sql(sql),
            PyFilter::Dnf(disjuncts) => Filter::Dnf(
                disjuncts
                    .into_iter()
                    .map(|terms| terms.into_iter().map(|(c, op, v)| (c, op, v.0)).collect())
                    .collect(),
            ),
        }
    }
}

/// The value of a term: `None`, a bool, an int, a float or a str, or a list or tuple of those.
pub struct PyFilterValue(DnfValue);

impl<'py> FromPyObject<'_, 'py> for PyFilterValue {
    type Error = PyErr;

    fn extract(value: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
            let items = value
                .try_iter()?
                .map(|item| scalar(&item?))
                .collect::<PyResult<Vec<_>>>()?;
            return Ok(Self(DnfValue::List(items)));
        }
        Ok(Self(DnfValue::Scalar(scalar(&value)?)))
    }
}

fn scalar(value: &Bound<'_, PyAny>) -> PyResult<Scalar> {
    Ok(if value.is_none() {
        Scalar::Null(PrimitiveType::String)
    } else if value.is_instance_of::<PyBool>() {
        Scalar::Boolean(value.extract()?)
    } else if value.is_instance_of::<PyInt>() {
        Scalar::Long(value.extract()?)
    } else if value.is_instance_of::<PyFloat>() {
        Scalar::Double(value.extract()?)
    } else if value.is_instance_of::<PyString>() {
        Scalar::String(value.extract()?)
    } else {
        return Err(PyTypeError::new_err(format!(
            "unsupported filter value {}: use None, bool, int, float, str, date, datetime or Decimal",
            value.repr()?
        )));
    })
}
