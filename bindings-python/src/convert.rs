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

/// A Python option value as JSON, for the core's option parsers: None,
/// bool, int, float (finite only: JSON has no NaN or infinity), str,
/// `os.PathLike`, and lists, tuples and dicts of those. `what` names the
/// value in errors (`process backend option `kill_grace``).
pub fn python_to_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<serde_json::Value> {
    use pyo3::exceptions::{PyTypeError, PyValueError};
    use pyo3::types::{PyBool, PyFloat, PyInt, PyString, PyTuple};
    use serde_json::Value as V;
    if obj.is_none() {
        return Ok(V::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(V::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(V::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(V::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "{what}: {obj} is out of range"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return match serde_json::Number::from_f64(f.value()) {
            Some(n) => Ok(V::Number(n)),
            None => Err(PyValueError::new_err(format!(
                "{what}: must be a finite number, not {}",
                f.repr()?
            ))),
        };
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(V::String(s.extract()?));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key: String = k.extract().map_err(|_| {
                PyTypeError::new_err(format!("{what}: the keys of a dict must be str"))
            })?;
            map.insert(key, python_to_value(&v, what)?);
        }
        return Ok(V::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return obj
            .try_iter()?
            .map(|x| python_to_value(&x?, what))
            .collect::<PyResult<Vec<_>>>()
            .map(V::Array);
    }
    if obj.hasattr("__fspath__")? {
        let path = obj.py().import("os")?.getattr("fsdecode")?.call1((obj,))?;
        return Ok(V::String(path.extract()?));
    }
    Err(PyTypeError::new_err(format!(
        "{what}: unsupported type {}",
        obj.get_type().name()?
    )))
}
