//! Byte-level GGUF header parser. Every length read from the file is bounded by the bytes
//! that remain, so a hostile header cannot make us allocate or seek without limit.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use super::{Gguf, GgufError, TensorInfo, Value};
use crate::GgmlType;

const MAGIC: &[u8; 4] = b"GGUF";
const DEFAULT_ALIGNMENT: u64 = 32;
const MAX_DIMS: u32 = 4;

// GGUF value type ids.
const T_U8: u32 = 0;
const T_I8: u32 = 1;
const T_U16: u32 = 2;
const T_I16: u32 = 3;
const T_U32: u32 = 4;
const T_I32: u32 = 5;
const T_F32: u32 = 6;
const T_BOOL: u32 = 7;
const T_STRING: u32 = 8;
const T_ARRAY: u32 = 9;
const T_U64: u32 = 10;
const T_I64: u32 = 11;
const T_F64: u32 = 12;

struct Cursor<'p, R> {
    r: R,
    pos: u64,
    size: u64,
    path: &'p Path,
}

impl<R: Read> Cursor<'_, R> {
    fn truncated(&self, what: impl Into<String>) -> GgufError {
        GgufError::Truncated { path: self.path.to_owned(), what: what.into(), file_size: self.size }
    }

    fn invalid(&self, what: impl Into<String>) -> GgufError {
        GgufError::Invalid { path: self.path.to_owned(), what: what.into() }
    }

    fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        if self.remaining() < N as u64 {
            return Err(self.truncated(format!("header ends inside {what}")));
        }
        let mut b = [0u8; N];
        self.r.read_exact(&mut b).map_err(|e| self.io(e))?;
        self.pos += N as u64;
        Ok(b)
    }

    fn io(&self, source: std::io::Error) -> GgufError {
        if source.kind() == std::io::ErrorKind::UnexpectedEof {
            self.truncated("unexpected end of file")
        } else {
            GgufError::Io { path: self.path.to_owned(), source }
        }
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes(what)?))
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes(what)?))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), GgufError> {
        if self.remaining() < n {
            return Err(self.truncated(format!("header ends inside {what}")));
        }
        let skipped = std::io::copy(&mut (&mut self.r).take(n), &mut std::io::sink()).map_err(|e| self.io(e))?;
        if skipped != n {
            return Err(self.truncated(format!("header ends inside {what}")));
        }
        self.pos += n;
        Ok(())
    }

    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let len = self.u64(what)?;
        if len > self.remaining() {
            return Err(self.truncated(format!("{what}: string of {len} bytes")));
        }
        let mut buf = vec![0u8; len as usize];
        self.r.read_exact(&mut buf).map_err(|e| self.io(e))?;
        self.pos += len;
        String::from_utf8(buf).map_err(|_| self.invalid(format!("{what} is not UTF-8")))
    }

    fn scalar_size(ty: u32) -> Option<u64> {
        Some(match ty {
            T_U8 | T_I8 | T_BOOL => 1,
            T_U16 | T_I16 => 2,
            T_U32 | T_I32 | T_F32 => 4,
            T_U64 | T_I64 | T_F64 => 8,
            _ => return None,
        })
    }

    fn value(&mut self, ty: u32, key: &str) -> Result<Value, GgufError> {
        Ok(match ty {
            T_U8 => Value::UInt(u8::from_le_bytes(self.bytes(key)?).into()),
            T_I8 => Value::Int(i8::from_le_bytes(self.bytes(key)?).into()),
            T_U16 => Value::UInt(u16::from_le_bytes(self.bytes(key)?).into()),
            T_I16 => Value::Int(i16::from_le_bytes(self.bytes(key)?).into()),
            T_U32 => Value::UInt(self.u32(key)?.into()),
            T_I32 => Value::Int(i32::from_le_bytes(self.bytes(key)?).into()),
            T_F32 => Value::Float(f32::from_le_bytes(self.bytes(key)?).into()),
            T_BOOL => match self.bytes::<1>(key)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(self.invalid(format!("`{key}`: bool byte {b}"))),
            },
            T_STRING => Value::Str(self.string(key)?),
            T_U64 => Value::UInt(self.u64(key)?),
            T_I64 => Value::Int(i64::from_le_bytes(self.bytes(key)?)),
            T_F64 => Value::Float(f64::from_le_bytes(self.bytes(key)?)),
            T_ARRAY => {
                let elem_type = self.u32(key)?;
                let len = self.u64(key)?;
                if elem_type == T_STRING {
                    // Every string carries at least its 8-byte length.
                    if len > self.remaining() / 8 {
                        return Err(self.truncated(format!("`{key}`: array of {len} strings")));
                    }
                    for _ in 0..len {
                        let n = self.u64(key)?;
                        self.skip(n, key)?;
                    }
                } else if let Some(sz) = Self::scalar_size(elem_type) {
                    let total =
                        len.checked_mul(sz).ok_or_else(|| self.invalid(format!("`{key}`: array length overflows")))?;
                    self.skip(total, key)?;
                } else {
                    return Err(self.invalid(format!("`{key}`: array of type {elem_type}")));
                }
                Value::Array { elem_type, len }
            }
            other => return Err(self.invalid(format!("`{key}`: unknown value type {other}"))),
        })
    }
}

/// Parse and check the header of the GGUF file at `path`.
pub fn read(path: &Path) -> Result<Gguf, GgufError> {
    let io = |source| GgufError::Io { path: path.to_owned(), source };
    let file = File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    parse(BufReader::with_capacity(1 << 16, file), size, path)
}

/// Parse and check a GGUF file held in memory (`path` only names it in errors).
pub fn read_bytes(bytes: &[u8], path: &Path) -> Result<Gguf, GgufError> {
    parse(bytes, bytes.len() as u64, path)
}

/// Tensor descriptions reserved up front, whatever the header announces.
const MAX_RESERVED_TENSORS: u64 = 2048;

fn parse(r: impl Read, size: u64, path: &Path) -> Result<Gguf, GgufError> {
    let mut c = Cursor { r, pos: 0, size, path };

    if size < 4 || &c.bytes::<4>("magic")? != MAGIC {
        return Err(GgufError::NotGguf { path: path.to_owned() });
    }
    let version = c.u32("version")?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::Version { path: path.to_owned(), version });
    }
    let n_tensors = c.u64("tensor count")?;
    let n_kv = c.u64("metadata count")?;
    // Each key/value takes at least 12 bytes, each tensor description at least 24.
    if n_kv > c.remaining() / 12 || n_tensors > c.remaining() / 24 {
        return Err(c.truncated(format!("{n_kv} metadata entries and {n_tensors} tensors announced")));
    }

    let mut metadata = std::collections::BTreeMap::new();
    for i in 0..n_kv {
        let key = c.string(&format!("metadata key {i}"))?;
        let ty = c.u32(&key)?;
        let value = c.value(ty, &key)?;
        if metadata.insert(key.clone(), value).is_some() {
            return Err(c.invalid(format!("duplicate metadata key `{key}`")));
        }
    }

    // The count is the file's claim: reserve for a real model's worth at most, and let the
    // vector grow with what is actually read (a bare `n_tensors` reserved ~3x the file size).
    let mut tensors = Vec::with_capacity(n_tensors.min(MAX_RESERVED_TENSORS) as usize);
    for i in 0..n_tensors {
        let name = c.string(&format!("tensor {i} name"))?;
        let n_dims = c.u32(&name)?;
        if n_dims == 0 || n_dims > MAX_DIMS {
            return Err(c.invalid(format!("tensor `{name}` has {n_dims} dimensions")));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(c.u64(&name)?);
        }
        let ggml_type = GgmlType(c.u32(&name)?);
        let offset = c.u64(&name)?;
        let layout = ggml_type.layout().ok_or_else(|| c.invalid(format!("tensor `{name}` has {ggml_type}")))?;
        let (blck, type_size) = (layout.block, layout.bytes);
        let elements = dims
            .iter()
            .try_fold(1u64, |acc, d| acc.checked_mul(*d))
            .filter(|n| *n > 0 && *n < (1 << 40))
            .ok_or_else(|| c.invalid(format!("tensor `{name}` has dimensions {dims:?}")))?;
        if dims[0] % blck != 0 {
            return Err(
                c.invalid(format!("tensor `{name}`: row of {} is not a multiple of its block size {blck}", dims[0]))
            );
        }
        let size = elements / blck * type_size;
        tensors.push(TensorInfo { name, dims, ggml_type, offset, size });
    }

    let alignment = match metadata.get("general.alignment") {
        None => DEFAULT_ALIGNMENT,
        Some(Value::UInt(a)) if *a > 0 && a.is_power_of_two() && *a <= 1 << 20 => *a,
        Some(other) => return Err(c.invalid(format!("general.alignment is {other:?}"))),
    };
    let data_offset = c.pos.div_ceil(alignment) * alignment;
    for t in &tensors {
        if t.offset % alignment != 0 {
            return Err(c.invalid(format!("tensor `{}` data is not {alignment}-byte aligned", t.name)));
        }
        let end = data_offset
            .checked_add(t.offset)
            .and_then(|s| s.checked_add(t.size))
            .ok_or_else(|| c.invalid(format!("tensor `{}` offset overflows", t.name)))?;
        if end > size {
            return Err(c.truncated(format!("tensor `{}` data ends at byte {end}", t.name)));
        }
    }
    Ok(Gguf { version, metadata, tensors, data_offset, file_size: size })
}
