// The implicit-GEMM convolution (_conv2d.wgsl) with 16-byte loads of A and B, where
// both channel counts allow them (see _conv2d_a_vec4.wgsl and _conv2d_b_vec4.wgsl).
