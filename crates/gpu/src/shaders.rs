//! Every WGSL file in shaders/, embedded so a built binary needs no files at run time.
//! The naga test checks that this list and the folder agree.

/// One WGSL source file.
#[derive(Clone, Copy, Debug)]
pub struct Shader {
    /// The file name without `.wgsl`.
    pub name: &'static str,
    pub source: &'static str,
}

macro_rules! shaders {
    ($($name:literal),* $(,)?) => {
        /// All of shatter's shaders.
        pub const SHADERS: &[Shader] = &[
            $(Shader { name: $name, source: include_str!(concat!("../../../shaders/", $name, ".wgsl")) },)*
        ];
    };
}

shaders![
    "batch",
    "cursor",
    "elementwise",
    "gemm",
    "gemm_tiled",
    "gemm_vec4",
    "reduce",
    "sgd",
    "softmax_xent"
];

/// The shader of that name; panics on a name that is not in the list (a programming error).
pub fn shader(name: &str) -> Shader {
    *SHADERS
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no shader named '{name}' in shaders/"))
}
