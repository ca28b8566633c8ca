//! Matrices in and out: `.npy` (numpy) and `.safetensors` (weights), read as real numbers.

use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::outfile;
use npyz::{DType, NpyFile, TypeChar, WriterBuilder};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

/// A row-major matrix of real numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// `rows × cols` values, row-major.
    pub data: Vec<f64>,
}

/// A 2-D shape from a file's shape (1-D is one row).
fn shape2(path: &Path, shape: &[u64]) -> Result<(usize, usize)> {
    match *shape {
        [n] => Ok((1, n as usize)),
        [r, c] => Ok((r as usize, c as usize)),
        _ => bail!(
            "{}: a matrix must be 1-D or 2-D, this one has shape {shape:?}",
            path.display()
        ),
    }
}

/// Reads a matrix from `.npy`, or tensor `name` of a `.safetensors` file (the only tensor if
/// `name` is `None`).
pub fn read_matrix(path: &Path, name: Option<&str>) -> Result<Matrix> {
    read_operand(path, name, "a tensor name")
}

/// [`read_matrix`] for an operand whose tensor name comes from option `tensor_flag`
/// (`--a-tensor`), which the messages name. A name given for a `.npy` file is an error: a
/// `.npy` holds one unnamed array, and ignoring the name would hide a mistake.
pub fn read_operand(path: &Path, name: Option<&str>, tensor_flag: &str) -> Result<Matrix> {
    let ext = path.extension().and_then(|e| e.to_str());
    if let (Some("npy"), Some(n)) = (ext, name) {
        bail!(
            "{}: a .npy file holds one unnamed array; {tensor_flag} {n} only applies to .safetensors files",
            path.display()
        );
    }
    if !matches!(ext, Some("npy" | "safetensors")) {
        bail!("{}: expected a .npy or .safetensors file", path.display());
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_operand(path, &bytes, name, tensor_flag)
}

/// [`read_matrix`] on a file's bytes already read (`path` says the format by its extension
/// and is named in the errors).
pub fn parse_matrix(path: &Path, bytes: &[u8], name: Option<&str>) -> Result<Matrix> {
    parse_operand(path, bytes, name, "a tensor name")
}

fn parse_operand(path: &Path, bytes: &[u8], name: Option<&str>, tensor_flag: &str) -> Result<Matrix> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("npy") => read_npy(path, bytes),
        Some("safetensors") => read_safetensors(path, bytes, name, tensor_flag),
        _ => bail!("{}: expected a .npy or .safetensors file", path.display()),
    }
}

/// Bytes of a `.npy` file's magic, version and header: where its data starts.
fn npy_data_offset(bytes: &[u8]) -> Option<u64> {
    // NEP 1: magic (6), version (2), header length (u16 in version 1, u32 in 2 and 3), header.
    match bytes.get(6)? {
        1 => Some(10 + u64::from(u16::from_le_bytes([*bytes.get(8)?, *bytes.get(9)?]))),
        2 | 3 => {
            let l = bytes.get(8..12)?;
            Some(12 + u64::from(u32::from_le_bytes([l[0], l[1], l[2], l[3]])))
        }
        _ => None,
    }
}

/// Refuses a `.npy` whose size is not exactly its header plus `elems × size` data bytes: a
/// short file was cut off; a long one has bytes after the array the reader would ignore.
fn check_npy_size(path: &Path, bytes: &[u8], shape: &[u64], size: u64) -> Result<()> {
    let offset = npy_data_offset(bytes).with_context(|| format!("{}: not a .npy file", path.display()))?;
    let expected = shape
        .iter()
        .try_fold(size, |n, &d| n.checked_mul(d))
        .and_then(|data| data.checked_add(offset));
    let have = bytes.len() as u64;
    let Some(expected) = expected else {
        bail!(
            "{}: shape {shape:?} of {size}-byte elements is too large for any file",
            path.display()
        );
    };
    if have < expected {
        bail!(
            "{}: truncated: shape {shape:?} of {size}-byte elements needs {expected} bytes \
             ({offset} of header, {} of data), the file has {have}",
            path.display(),
            expected - offset
        );
    }
    if have > expected {
        bail!(
            "{}: {} bytes after the array's data (shape {shape:?} of {size}-byte elements ends at \
             byte {expected}, the file has {have}): not a single .npy array",
            path.display(),
            have - expected
        );
    }
    Ok(())
}

fn read_npy(path: &Path, bytes: &[u8]) -> Result<Matrix> {
    let npy = NpyFile::new(bytes).with_context(|| format!("{}: not a .npy file", path.display()))?;
    let (rows, cols) = shape2(path, npy.shape())?;
    if npy.order() != npyz::Order::C {
        bail!(
            "{}: Fortran-ordered arrays are not supported; save with order='C'",
            path.display()
        );
    }
    let DType::Plain(ts) = npy.dtype() else {
        bail!("{}: structured dtypes are not supported", path.display());
    };
    let bad = || format!("{}: unsupported dtype {ts}", path.display());
    if let Some(size) = ts.num_bytes() {
        check_npy_size(path, bytes, npy.shape(), size as u64)?;
    }
    let data: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => npy.into_vec::<f32>()?.into_iter().map(f64::from).collect(),
        (TypeChar::Float, 8) => npy.into_vec::<f64>()?,
        (TypeChar::Int, 1) => npy.into_vec::<i8>()?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 2) => npy.into_vec::<i16>()?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 4) => npy.into_vec::<i32>()?.into_iter().map(f64::from).collect(),
        (TypeChar::Int, 8) => npy.into_vec::<i64>()?.into_iter().map(|x| x as f64).collect(),
        (TypeChar::Uint, 1) => npy.into_vec::<u8>()?.into_iter().map(f64::from).collect(),
        (TypeChar::Uint, 2) => npy.into_vec::<u16>()?.into_iter().map(f64::from).collect(),
        _ => bail!(bad()),
    };
    Ok(Matrix { rows, cols, data })
}

pub(crate) fn read_safetensors(path: &Path, bytes: &[u8], name: Option<&str>, tensor_flag: &str) -> Result<Matrix> {
    let st = SafeTensors::deserialize(bytes).with_context(|| format!("{}: not a safetensors file", path.display()))?;
    let names = st.names();
    let name = match name {
        Some(n) => n.to_string(),
        None if names.len() == 1 => names[0].clone(),
        None => {
            let mut list: Vec<&String> = names.into_iter().collect();
            list.sort();
            bail!(
                "{}: holds {} tensors, name one with {tensor_flag} ({list:?})",
                path.display(),
                list.len()
            )
        }
    };
    let t = st
        .tensor(&name)
        .with_context(|| format!("{}: no tensor named {name}", path.display()))?;
    let shape: Vec<u64> = t.shape().iter().map(|&d| d as u64).collect();
    let (rows, cols) = shape2(path, &shape)?;
    let d = t.data();
    let data: Vec<f64> = match t.dtype() {
        Dtype::F32 => d
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        Dtype::F64 => d
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
            .collect(),
        Dtype::BF16 => d
            .chunks_exact(2)
            .map(|b| {
                let code = u32::from(u16::from_le_bytes([b[0], b[1]]));
                crate::golden::output_to_f64(npe_hdl::spec::OutputFormat::Bf16, code)
            })
            .collect(),
        Dtype::F16 => d
            .chunks_exact(2)
            .map(|b| {
                let code = u32::from(u16::from_le_bytes([b[0], b[1]]));
                crate::golden::output_to_f64(npe_hdl::spec::OutputFormat::Fp16, code)
            })
            .collect(),
        Dtype::I8 => d.iter().map(|&b| f64::from(b as i8)).collect(),
        Dtype::I32 => d
            .chunks_exact(4)
            .map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        other => bail!("{}: tensor {name} has unsupported dtype {other:?}", path.display()),
    };
    Ok(Matrix { rows, cols, data })
}

/// Writes a matrix as a float32 `.npy` (what a result in any output format fits in exactly,
/// except INT32 beyond 2^24, which is written as float64), as an output file
/// ([`outfile::write`]: a missing path or a regular file; errors name the path).
pub fn write_npy(path: &Path, m: &Matrix, f64_values: bool) -> Result<()> {
    // Built in memory (results are at most device-memory sized), so that every error of the
    // actual write, a full disk included, comes from one place that names the path.
    let w = npy_bytes(m, f64_values)?;
    outfile::write("output", path, &w)?;
    Ok(())
}

/// The bytes of [`write_npy`]'s file.
pub fn npy_bytes(m: &Matrix, f64_values: bool) -> Result<Vec<u8>> {
    let shape = [m.rows as u64, m.cols as u64];
    let mut w = Vec::new();
    if f64_values {
        let mut wr = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut w)
            .begin_nd()?;
        wr.extend(m.data.iter().copied())?;
        wr.finish()?;
    } else {
        let mut wr = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut w)
            .begin_nd()?;
        wr.extend(m.data.iter().map(|&x| x as f32))?;
        wr.finish()?;
    }
    Ok(w)
}

/// Writes f32 tensors to a `.safetensors` file (for tests and examples).
pub fn write_safetensors(path: &Path, tensors: &[(&str, &Matrix)]) -> Result<()> {
    std::fs::write(path, safetensors_bytes(tensors)?).with_context(|| format!("cannot write {}", path.display()))
}

/// The bytes of [`write_safetensors`]'s file.
pub fn safetensors_bytes(tensors: &[(&str, &Matrix)]) -> Result<Vec<u8>> {
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, m)| m.data.iter().flat_map(|&x| (x as f32).to_le_bytes()).collect())
        .collect();
    let views: Vec<(String, TensorView)> = tensors
        .iter()
        .zip(&bytes)
        .map(|((n, m), b)| Ok((n.to_string(), TensorView::new(Dtype::F32, vec![m.rows, m.cols], b)?)))
        .collect::<Result<_>>()?;
    Ok(safetensors::serialize(views, &None)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("npe-tensor-{}-{name}", std::process::id()))
    }

    #[test]
    fn npy_and_safetensors_round_trip() {
        let m = Matrix {
            rows: 2,
            cols: 3,
            data: vec![1.0, -2.5, 0.0, 3.0, 1e-3, -7.0],
        };
        let p = tmp("a.npy");
        write_npy(&p, &m, true).unwrap();
        assert_eq!(read_matrix(&p, None).unwrap(), m);
        let s = tmp("w.safetensors");
        write_safetensors(&s, &[("w", &m), ("b", &m)]).unwrap();
        let back = read_matrix(&s, Some("w")).unwrap();
        assert_eq!((back.rows, back.cols), (2, 3));
        assert_eq!(back.data[1], -2.5);
        let e = read_operand(&s, None, "--w-tensor").unwrap_err().to_string();
        assert!(e.contains("holds 2 tensors, name one with --w-tensor"), "{e}");
        let e = read_matrix(&s, Some("nope")).unwrap_err().to_string();
        assert!(e.contains("no tensor named nope"), "{e}");
        for f in [p, s] {
            let _ = std::fs::remove_file(f);
        }
    }

    /// A .npy file is its header plus exactly its data: a short file names the size it needs,
    /// bytes after the data are refused, and a tensor name for a .npy is a mistake.
    #[test]
    fn npy_sizes_and_names_are_checked() {
        let m = Matrix {
            rows: 3,
            cols: 2,
            data: vec![1.0; 6],
        };
        let p = tmp("sized.npy");
        write_npy(&p, &m, false).unwrap();
        let good = std::fs::read(&p).unwrap();
        assert_eq!(read_matrix(&p, None).unwrap(), m);
        let e = read_operand(&p, Some("w"), "--w-tensor").unwrap_err().to_string();
        assert!(
            e.contains("a .npy file holds one unnamed array; --w-tensor w only applies"),
            "{e}"
        );
        std::fs::write(&p, &good[..good.len() - 5]).unwrap();
        let e = read_matrix(&p, None).unwrap_err().to_string();
        assert!(e.contains(&p.display().to_string()), "{e}");
        assert!(
            e.contains(&format!(
                "truncated: shape [3, 2] of 4-byte elements needs {} bytes",
                good.len()
            )),
            "{e}"
        );
        assert!(e.contains(&format!("the file has {}", good.len() - 5)), "{e}");
        let mut long = good.clone();
        long.extend_from_slice(b"trailing");
        std::fs::write(&p, &long).unwrap();
        let e = read_matrix(&p, None).unwrap_err().to_string();
        assert!(e.contains("8 bytes after the array's data"), "{e}");
        let _ = std::fs::remove_file(&p);
    }

    #[test]
    fn write_errors_name_the_path() {
        let m = Matrix {
            rows: 1,
            cols: 1,
            data: vec![1.0],
        };
        let dir = std::env::temp_dir();
        let e = write_npy(&dir, &m, false).unwrap_err().to_string();
        assert!(e.contains(&format!("{}: is a directory", dir.display())), "{e}");
        let e = write_npy(Path::new("/nonexistent-dir/c.npy"), &m, false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/nonexistent-dir/c.npy") && e.contains("does not exist"),
            "{e}"
        );
    }

    #[test]
    fn bad_files_are_errors() {
        let p = tmp("bad.npy");
        std::fs::write(&p, b"not numpy").unwrap();
        assert!(read_matrix(&p, None).unwrap_err().to_string().contains("not a .npy"));
        let _ = std::fs::remove_file(&p);
        assert!(read_matrix(Path::new("x.txt"), None).is_err());
        assert!(read_matrix(Path::new("/nonexistent/a.npy"), None)
            .unwrap_err()
            .to_string()
            .contains("cannot read"));
    }
}
