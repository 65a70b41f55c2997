//! One GEMM on the adapter against the CPU reference, shared by the kernel tests.
//!
//! GEMMs accumulate in f32 against an f64 reference, so the bound grows with the depth
//! K: |error| <= 4e-5 * K^0.5 + 1e-4 relative.

use shatter_gpu::Gpu;
use shatter_nn::{GemmSpec, GemmVariant, gemm, reference};

use crate::{assert_close, random_values, rng};

/// Run `spec` (with a bias when `bias`) on random operands drawn from `seed` and compare
/// C with the reference, epilogue included.
pub fn check_gemm(gpu: &Gpu, spec: GemmSpec, bias: bool, seed: u64) {
    let GemmSpec {
        m,
        n,
        k,
        trans_a,
        trans_b,
        relu,
        variant,
    } = spec;
    let mut r = rng(seed);
    let a = random_values(&mut r, m * k);
    let b = random_values(&mut r, k * n);
    let bias_values = random_values(&mut r, n);
    let a_t = gpu.tensor("a", &[m * k], &a).unwrap();
    let b_t = gpu.tensor("b", &[k * n], &b).unwrap();
    let bias_t = gpu.tensor("bias", &[n], &bias_values).unwrap();
    let c_t = gpu.zeros("c", &[m, n]).unwrap();
    let spec = GemmSpec {
        m,
        n,
        k,
        trans_a,
        trans_b,
        relu,
        variant,
    };
    let d = gemm(gpu, "gemm", spec, &a_t, &b_t, bias.then_some(&bias_t), &c_t).unwrap();
    // A texel variant that fits copies A and B into their mirrors first; one that fell
    // back to buffer reads would pass the value checks without testing the mirrors.
    // A split product runs its ranges, then their sum.
    let runs = spec.runs(gpu);
    let expected = match runs {
        v if v.reads_texels() => 3,
        GemmVariant::TiledSplit { .. } => 2,
        _ => 1,
    };
    assert_eq!(
        d.len(),
        expected,
        "{variant:?} gemm m={m} n={n} k={k}: dispatches"
    );
    gpu.run(&d).unwrap();
    let got = gpu.read_f32(&c_t).unwrap();
    let mut want = reference::gemm(&a, &b, m, n, k, trans_a, trans_b);
    for row in 0..m {
        for col in 0..n {
            let v = &mut want[row * n + col];
            if bias {
                *v += bias_values[col];
            }
            if relu {
                *v = v.max(0.0);
            }
        }
    }
    let atol = 4e-5 * (k as f32).sqrt();
    assert_close(
        &format!(
            "{variant:?} gemm m={m} n={n} k={k} ta={trans_a} tb={trans_b} bias={bias} relu={relu}"
        ),
        &got,
        &want,
        1e-4,
        atol,
    );
}
