// Column sums (_reduce.wgsl), one column per invocation: any number of columns.

alias Lanes = f32;
