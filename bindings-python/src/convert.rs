//! Conversions: serializable core values to plain Python objects.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde::Serialize;

/// Any serializable value as plain Python objects (dict, list, str, int,
/// float, bool, None).
pub fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    json_to_python(py, &json)
}

fn json_to_python<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    use serde_json::Value as V;
    Ok(match v {
        V::Null => py.None().into_bound(py),
        V::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        V::Number(n) => match n.as_i64() {
            Some(i) => i.into_pyobject(py)?.into_any(),
            None => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        V::String(s) => s.into_pyobject(py)?.into_any(),
        V::Array(a) => {
            let list = PyList::empty(py);
            for x in a {
                list.append(json_to_python(py, x)?)?;
            }
            list.into_any()
        }
        V::Object(o) => {
            let dict = PyDict::new(py);
            for (k, x) in o {
                dict.set_item(k, json_to_python(py, x)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python object (dict, list, ...) as JSON text, through `json.dumps`
/// (paths such as `pathlib.Path` become strings).
pub fn python_to_json(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let py = obj.py();
    let json = py.import("json")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("default", py.import("os")?.getattr("fspath")?)?;
    json.call_method("dumps", (obj,), Some(&kwargs))?.extract()
}
