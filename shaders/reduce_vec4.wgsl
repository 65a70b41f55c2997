// Column sums (_reduce.wgsl), four neighbouring columns per invocation, for matrices
// whose columns are a multiple of 4 (the bias gradients of the model zoo's layers). On
// CPU adapters each storage load is a loop over the SIMD lanes, so a 16-byte load does
// the work of four scalar ones in about half the time; on GPUs it is a wider transaction.

alias Lanes = vec4<f32>;
