// The implicit-GEMM convolution (_conv2d.wgsl) with scalar loads of A and 16-byte loads
// of B: a first layer, whose 1 or 3 input channels rule out vec4 reads of the image but
// whose filter and gradient rows (output channels) are whole vec4s. B's panel is half of
// the loads of a step, so it runs in a little over half the loads of the scalar kernel.
