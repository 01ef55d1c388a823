//! Rust twins of CUDA's built-in vector types, for kernel parameters that take them by value or
//! through pointers.
//!
//! Each is `#[repr(C)]` with the fields `x`, `y`, `z`, `w` (as many as it has lanes) and the
//! alignment CUDA's `vector_types.h` gives it: two lanes are aligned to their size, four lanes to
//! their size up to 16 bytes, one and three lanes to the element. `float4` is therefore 16-byte
//! aligned and `float3` only 4-byte aligned, as on the device. `long` vectors are not mapped,
//! since `long` has a different width on Linux and Windows; use `longlong` vectors.
//!
//! ```
//! use sasskit::vector::{Float4, Half2};
//! use sasskit::half::f16;
//!
//! let v = Float4 { x: 1.0, y: 2.0, z: 3.0, w: 4.0 };
//! assert_eq!((size_of::<Float4>(), align_of::<Float4>()), (16, 16));
//! let h = Half2 { x: f16::ONE, y: f16::ZERO };
//! # let _ = (v, h);
//! ```

use cudarc::driver::{DeviceRepr, ValidAsZeroBits};
use half::{bf16, f16};

macro_rules! vector_type {
    ($(#[$doc:meta])* $name:ident, $align:literal, $element:ty, $($field:ident),+) => {
        $(#[$doc])*
        #[repr(C, align($align))]
        #[derive(Debug, Clone, Copy, Default, PartialEq)]
        #[allow(missing_docs)] // The fields are the lanes, as in CUDA.
        pub struct $name {
            $(pub $field: $element,)+
        }

        // SAFETY: a `#[repr(C)]` struct of plain numbers with the size and alignment of the
        // CUDA type (asserted in the tests against `sasskit_core::kernel::Vector`).
        unsafe impl DeviceRepr for $name {}
        // SAFETY: all fields are numbers, for which zero bits are a valid value.
        unsafe impl ValidAsZeroBits for $name {}
    };
}

/// The four vector types of one element type.
macro_rules! vector_family {
    ($element:ty, $c:literal, $one:ident $a1:literal, $two:ident $a2:literal, $three:ident $a3:literal, $four:ident $a4:literal) => {
        vector_type!(
            #[doc = concat!("CUDA's `", $c, "1`.")]
            $one,
            $a1,
            $element,
            x
        );
        vector_type!(
            #[doc = concat!("CUDA's `", $c, "2`.")]
            $two,
            $a2,
            $element,
            x,
            y
        );
        vector_type!(
            #[doc = concat!("CUDA's `", $c, "3`.")]
            $three,
            $a3,
            $element,
            x,
            y,
            z
        );
        vector_type!(
            #[doc = concat!("CUDA's `", $c, "4`.")]
            $four,
            $a4,
            $element,
            x,
            y,
            z,
            w
        );
    };
}

vector_family!(i8, "char", Char1 1, Char2 2, Char3 1, Char4 4);
vector_family!(u8, "uchar", UChar1 1, UChar2 2, UChar3 1, UChar4 4);
vector_family!(i16, "short", Short1 2, Short2 4, Short3 2, Short4 8);
vector_family!(u16, "ushort", UShort1 2, UShort2 4, UShort3 2, UShort4 8);
vector_family!(i32, "int", Int1 4, Int2 8, Int3 4, Int4 16);
vector_family!(u32, "uint", UInt1 4, UInt2 8, UInt3 4, UInt4 16);
vector_family!(i64, "longlong", LongLong1 8, LongLong2 16, LongLong3 8, LongLong4 16);
vector_family!(u64, "ulonglong", ULongLong1 8, ULongLong2 16, ULongLong3 8, ULongLong4 16);
vector_family!(f32, "float", Float1 4, Float2 8, Float3 4, Float4 16);
vector_family!(f64, "double", Double1 8, Double2 16, Double3 8, Double4 16);
vector_type!(
    /// CUDA's `__half2` (`half2`).
    Half2, 4, f16, x, y
);
vector_type!(
    /// CUDA's `__nv_bfloat162` (`nv_bfloat162`).
    Bf162, 4, bf16, x, y
);

#[cfg(test)]
mod tests {
    use sasskit_core::kernel::Vector;

    use super::*;

    /// Every vector type the build maps has a twin here with the size and alignment the core's
    /// table gives (which the core tests against CUDA's header values).
    #[test]
    fn twins_have_the_layout_of_the_mapped_types() {
        macro_rules! layouts {
            ($($name:ident),+) => {
                [$((stringify!($name), size_of::<$name>(), align_of::<$name>())),+]
            };
        }
        let twins = layouts!(
            Char1, Char2, Char3, Char4, UChar1, UChar2, UChar3, UChar4, Short1, Short2, Short3,
            Short4, UShort1, UShort2, UShort3, UShort4, Int1, Int2, Int3, Int4, UInt1, UInt2,
            UInt3, UInt4, LongLong1, LongLong2, LongLong3, LongLong4, ULongLong1, ULongLong2,
            ULongLong3, ULongLong4, Float1, Float2, Float3, Float4, Double1, Double2, Double3,
            Double4, Half2, Bf162
        );
        let mapped: Vec<Vector> = Vector::all().collect();
        assert_eq!(mapped.len(), twins.len());
        for vector in mapped {
            let name = vector.rust_name();
            let twin = twins.iter().find(|(twin, _, _)| *twin == name);
            assert_eq!(
                twin.map(|&(_, size, align)| (size, align)),
                Some((vector.size(), vector.align())),
                "{name}"
            );
        }
    }
}
