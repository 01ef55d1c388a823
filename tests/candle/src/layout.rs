//! candle's tensor layouts as its kernels read them.
//!
//! candle passes a kernel `numel`, `num_dims` and `info`, a `const size_t*` that holds the dims
//! followed by one set of strides per operand (`cuda_utils.cuh`: `info + num_dims` are the
//! strides; `ternary.cu` reads three sets). Element `i` of the output, in row-major order over
//! the dims, reads its operand at `get_strided_index(i)`: the sum of each coordinate times its
//! stride. `info = nullptr` (a `sasskit::Null` argument) means every operand is contiguous.

/// Dims and the strides of one operand, in elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub(crate) dims: Vec<usize>,
    pub(crate) strides: Vec<usize>,
}

impl Layout {
    /// Row-major, no gaps: what `is_contiguous` accepts.
    pub(crate) fn contiguous(dims: &[usize]) -> Layout {
        let mut strides = vec![0; dims.len()];
        let mut acc = 1;
        for (stride, dim) in strides.iter_mut().zip(dims).rev() {
            *stride = acc;
            acc *= dim;
        }
        Layout {
            dims: dims.to_vec(),
            strides,
        }
    }

    /// The view with `dims` of a contiguous buffer whose dims are `dims` reversed: a transpose
    /// of every axis, the most strided layout there is.
    pub(crate) fn transposed(dims: &[usize]) -> Layout {
        let reversed: Vec<usize> = dims.iter().rev().copied().collect();
        let mut strides = Layout::contiguous(&reversed).strides;
        strides.reverse();
        Layout {
            dims: dims.to_vec(),
            strides,
        }
    }

    /// Elements in the view.
    pub(crate) fn numel(&self) -> usize {
        self.dims.iter().product()
    }

    /// Elements the buffer behind the view must hold.
    pub(crate) fn storage_len(&self) -> usize {
        1 + self
            .dims
            .iter()
            .zip(&self.strides)
            .map(|(dim, stride)| dim.saturating_sub(1) * stride)
            .sum::<usize>()
    }

    /// Where element `i` of the view is in its buffer: `get_strided_index` of `cuda_utils.cuh`.
    pub(crate) fn strided_index(&self, mut i: usize) -> usize {
        let mut strided = 0;
        for (dim, stride) in self.dims.iter().zip(&self.strides).rev() {
            strided += (i % dim) * stride;
            i /= dim;
        }
        strided
    }

    /// The view's elements in row-major order, read from `storage`.
    pub(crate) fn gather<T: Copy>(&self, storage: &[T]) -> Vec<T> {
        (0..self.numel())
            .map(|i| storage[self.strided_index(i)])
            .collect()
    }

    /// `info` for a kernel with this one operand: dims, then strides.
    pub(crate) fn info(&self) -> Vec<usize> {
        [self.dims.as_slice(), &self.strides].concat()
    }
}

/// `info` for a kernel with several operands of the same dims (`where_*`: the condition, then
/// the true and false values): dims, then each operand's strides.
pub(crate) fn info_of(operands: &[&Layout]) -> Vec<usize> {
    let mut info = operands
        .first()
        .map(|first| first.dims.clone())
        .unwrap_or_default();
    for operand in operands {
        info.extend_from_slice(&operand.strides);
    }
    info
}

#[cfg(test)]
mod tests {
    use super::{Layout, info_of};

    #[test]
    fn transposed_reads_the_reversed_buffer() {
        let layout = Layout::transposed(&[2, 3]);
        assert_eq!(layout.strides, [1, 2]);
        assert_eq!(layout.storage_len(), 6);
        // The buffer is 3x2 row-major: [[0, 1], [2, 3], [4, 5]]; the view is its transpose.
        assert_eq!(layout.gather(&[0, 1, 2, 3, 4, 5]), [0, 2, 4, 1, 3, 5]);
        assert_eq!(layout.info(), [2, 3, 1, 2]);
    }

    #[test]
    fn broadcast_repeats_and_info_lists_every_operand() {
        let contiguous = Layout::contiguous(&[2, 3]);
        assert_eq!(contiguous.strides, [3, 1]);
        let broadcast = Layout {
            dims: vec![2, 3],
            strides: vec![0, 1],
        };
        assert_eq!(broadcast.storage_len(), 3);
        assert_eq!(broadcast.gather(&[7, 8, 9]), [7, 8, 9, 7, 8, 9]);
        assert_eq!(info_of(&[&contiguous, &broadcast]), [2, 3, 3, 1, 0, 1]);
    }
}
