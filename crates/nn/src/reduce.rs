//! Column sums (shaders/reduce.wgsl): the bias gradient of dense and conv layers.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Matrix {
    rows: u32,
    cols: u32,
    _pad: [u32; 2],
}

/// sums[j] = sum over the rows of m[row, j], for m a [rows, cols] matrix.
pub fn column_sum(
    gpu: &Gpu,
    label: &str,
    m: &Tensor,
    rows: usize,
    cols: usize,
    sums: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(m.len(), rows * cols, "{label}: matrix length");
    assert_eq!(sums.len(), cols, "{label}: sums length");
    let shape = gpu.uniform(
        &format!("{label}.shape"),
        &Matrix {
            rows: rows as u32,
            cols: cols as u32,
            _pad: [0; 2],
        },
    );
    gpu.dispatch(
        label,
        &Kernel::new("reduce", "column_sum"),
        &[
            Binding::uniform(&shape),
            Binding::read(&m.buffer),
            Binding::write(&sums.buffer),
        ],
        [cols.div_ceil(64) as u32, 1, 1],
    )
}
