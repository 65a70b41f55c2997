// The implicit-GEMM convolution (_conv2d.wgsl) with 16-byte loads of A and B from their
// texel mirrors, which the host fills from the buffers just before (see _texels.wgsl).
