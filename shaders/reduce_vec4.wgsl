// Column sums (_reduce.wgsl), four neighbouring columns per invocation, for matrices
// whose columns are a multiple of 4 (the bias gradients of the model zoo's layers). On
// CPU adapters each storage load is a loop over the SIMD lanes, and a 16-byte load costs
// less than four scalar ones (the AlexNet's first bias gradient: 42 -> 33 ms on
// lavapipe); on GPUs it is a wider transaction.

alias Lanes = vec4<f32>;
