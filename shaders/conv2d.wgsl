// The implicit-GEMM convolution (_conv2d.wgsl) with scalar loads of A and B: any shape.
