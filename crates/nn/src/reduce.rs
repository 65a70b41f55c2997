//! Column sums (shaders/_reduce.wgsl): the bias gradient of dense and conv layers, and the
//! sum of a split product's partial results.

use shatter_gpu::{Binding, Dispatch, Gpu, GpuError, Kernel, Tensor, wgpu};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Matrix {
    rows: u32,
    cols: u32,
    chunk_rows: u32,
    _pad: u32,
}

/// Rows each invocation of the first stage of a long column sum adds up. A conv layer's
/// bias gradient sums batch x height x width rows (100,352 in the AlexNet's first
/// layer): in chunks of 256 the first stage has 392 invocations a column and the second
/// sums 392 values.
pub const COLUMN_SUM_CHUNK_ROWS: usize = 256;

/// `sums[j]` = sum over the rows of `m[row, j]`, for m a `[rows, cols]` matrix. Matrices of
/// more than two chunks of rows are summed in two stages, chunk by chunk into a scratch
/// matrix and then its columns, so that the work spreads over the device.
pub fn column_sum(
    gpu: &Gpu,
    label: &str,
    m: &Tensor,
    rows: usize,
    cols: usize,
    sums: &Tensor,
) -> Result<Vec<Dispatch>, GpuError> {
    if rows <= 2 * COLUMN_SUM_CHUNK_ROWS {
        return Ok(vec![column_sum_dispatch(gpu, label, m, rows, cols, sums)?]);
    }
    assert_eq!(m.len(), rows * cols, "{label}: matrix length");
    let chunks = rows.div_ceil(COLUMN_SUM_CHUNK_ROWS);
    // Kept alive by the dispatches' bind groups.
    let partial = gpu.zeros(&format!("{label}.chunk_sums"), &[chunks, cols])?;
    let (shader, lanes) = column_sum_lanes(cols);
    let shape = matrix(gpu, label, rows, lanes, COLUMN_SUM_CHUNK_ROWS);
    let chunk_sums = gpu.dispatch(
        &format!("{label}.chunks"),
        &Kernel::new(shader, "column_sum_chunks"),
        &[
            Binding::params(&shape),
            Binding::read(&m.buffer),
            Binding::write(&partial.buffer),
        ],
        [lanes.div_ceil(64) as u32, chunks as u32, 1],
    )?;
    Ok(vec![
        chunk_sums,
        column_sum_dispatch(gpu, label, &partial, chunks, cols, sums)?,
    ])
}

/// One invocation per column summing all its rows: the sum of a split product's `rows`
/// partial results, or a short column sum.
pub fn column_sum_dispatch(
    gpu: &Gpu,
    label: &str,
    m: &Tensor,
    rows: usize,
    cols: usize,
    sums: &Tensor,
) -> Result<Dispatch, GpuError> {
    assert_eq!(m.len(), rows * cols, "{label}: matrix length");
    assert_eq!(sums.len(), cols, "{label}: sums length");
    let (shader, lanes) = column_sum_lanes(cols);
    let shape = matrix(gpu, label, rows, lanes, rows);
    gpu.dispatch(
        label,
        &Kernel::new(shader, "column_sum"),
        &[
            Binding::params(&shape),
            Binding::read(&m.buffer),
            Binding::write(&sums.buffer),
        ],
        [lanes.div_ceil(64) as u32, 1, 1],
    )
}

/// The kernel file summing `cols` columns and the lanes (columns, or quads of them) its
/// invocations take: four columns an invocation where `cols` allows (shaders/reduce_vec4.wgsl).
/// On lavapipe that took the first stage of the AlexNet's bias gradients from 42 to 33 ms
/// (first layer, 100,352 rows of 64) and from 12 to 8 ms (second).
pub fn column_sum_lanes(cols: usize) -> (&'static str, usize) {
    if cols.is_multiple_of(4) {
        ("reduce_vec4", cols / 4)
    } else {
        ("reduce", cols)
    }
}

fn matrix(gpu: &Gpu, label: &str, rows: usize, cols: usize, chunk_rows: usize) -> wgpu::Buffer {
    gpu.params(
        &format!("{label}.shape"),
        &Matrix {
            rows: rows as u32,
            cols: cols as u32,
            chunk_rows: chunk_rows as u32,
            _pad: 0,
        },
    )
}
