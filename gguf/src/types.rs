//! ggml's tensor types, as a GGUF file names them: id, name, and the bytes of one block.
//!
//! The reader needs each type's block layout to check that a tensor's data fits the file,
//! before llama.cpp sees it. ggml keeps this table in C (`type_traits` in `ggml.c`); this is
//! its copy in Rust, so that checking a file needs no C. `trinity-llama`'s tests compare it
//! with ggml's own `ggml_blck_size`/`ggml_type_size` for every id, so the two cannot drift
//! apart unnoticed when llama.cpp is upgraded.

use std::fmt;

/// A ggml tensor type id, as stored in a GGUF tensor description.
///
/// Any `u32` can be held (a file may name a type this build does not know);
/// [`GgmlType::layout`] says whether it is one ggml can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GgmlType(pub u32);

impl GgmlType {
    /// 32-bit float.
    pub const F32: Self = Self(0);
    /// 16-bit IEEE float.
    pub const F16: Self = Self(1);
    /// 8-bit, 32 per block.
    pub const Q8_0: Self = Self(8);
    /// 4-bit k-quant, 256 per block (most of a Q4_K_M model).
    pub const Q4_K: Self = Self(12);
    /// bfloat16.
    pub const BF16: Self = Self(30);

    /// The element types a LoRA adapter's tensors may have: the plain floats llama.cpp
    /// multiplies LoRA matrices in, which the checker can read for non-finite values.
    pub const LORA: [Self; 3] = [Self::F32, Self::F16, Self::BF16];

    /// Elements per block and bytes per block, or `None` for an id ggml does not read
    /// (removed, or newer than this table).
    pub fn layout(self) -> Option<Layout> {
        TABLE.iter().find(|t| t.id == self.0).map(|t| Layout { block: t.block, bytes: t.bytes })
    }

    /// ggml's name for the type (`q4_K`), or `None` as for [`GgmlType::layout`].
    pub fn name(self) -> Option<&'static str> {
        TABLE.iter().find(|t| t.id == self.0).map(|t| t.name)
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "unknown ggml type {}", self.0),
        }
    }
}

/// How a type packs its elements: `block` elements take `bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Elements per block (1 for plain types).
    pub block: u64,
    /// Bytes per block.
    pub bytes: u64,
}

struct Entry {
    id: u32,
    name: &'static str,
    block: u64,
    bytes: u64,
}

const fn e(id: u32, name: &'static str, block: u64, bytes: u64) -> Entry {
    Entry { id, name, block, bytes }
}

/// ggml's `type_traits` as of llama.cpp in `llama-cpp-sys-2` 0.1.161 (`GGML_TYPE_COUNT` 43).
/// Ids 4, 5, 31–33 and 36–38 were removed from ggml and are not here.
const TABLE: &[Entry] = &[
    e(0, "f32", 1, 4),
    e(1, "f16", 1, 2),
    e(2, "q4_0", 32, 18),
    e(3, "q4_1", 32, 20),
    e(6, "q5_0", 32, 22),
    e(7, "q5_1", 32, 24),
    e(8, "q8_0", 32, 34),
    e(9, "q8_1", 32, 36),
    e(10, "q2_K", 256, 84),
    e(11, "q3_K", 256, 110),
    e(12, "q4_K", 256, 144),
    e(13, "q5_K", 256, 176),
    e(14, "q6_K", 256, 210),
    e(15, "q8_K", 256, 292),
    e(16, "iq2_xxs", 256, 66),
    e(17, "iq2_xs", 256, 74),
    e(18, "iq3_xxs", 256, 98),
    e(19, "iq1_s", 256, 50),
    e(20, "iq4_nl", 32, 18),
    e(21, "iq3_s", 256, 110),
    e(22, "iq2_s", 256, 82),
    e(23, "iq4_xs", 256, 136),
    e(24, "i8", 1, 1),
    e(25, "i16", 1, 2),
    e(26, "i32", 1, 4),
    e(27, "i64", 1, 8),
    e(28, "f64", 1, 8),
    e(29, "iq1_m", 256, 56),
    e(30, "bf16", 1, 2),
    e(34, "tq1_0", 256, 54),
    e(35, "tq2_0", 256, 66),
    e(39, "mxfp4", 32, 17),
    e(40, "nvfp4", 64, 36),
    e(41, "q1_0", 128, 18),
    e(42, "q2_0", 64, 18),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_in_order() {
        assert!(TABLE.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn removed_and_unknown_ids_have_no_layout() {
        for id in [4, 5, 31, 32, 33, 36, 37, 38, 43, u32::MAX] {
            assert_eq!(GgmlType(id).layout(), None, "{id}");
        }
        assert_eq!(GgmlType(4).to_string(), "unknown ggml type 4");
    }

    #[test]
    fn names_and_layouts_are_ggmls() {
        assert_eq!(GgmlType::Q4_K.layout(), Some(Layout { block: 256, bytes: 144 }));
        assert_eq!(GgmlType::BF16.to_string(), "bf16");
    }
}
