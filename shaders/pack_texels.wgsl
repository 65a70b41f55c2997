// Copy an f32 buffer into its texel mirror (see _texels.wgsl), four values per texel.
// Runs before each kernel that reads the mirror, inside the same compute pass.

@group(0) @binding(0) var<storage, read> source: array<vec4<f32>>;
@group(0) @binding(1) var mirror: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size(64)
fn pack_texels(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let i = gid.x + gid.y * groups.x * 64u;
    if i >= arrayLength(&source) {
        return;
    }
    textureStore(mirror, texel_coords(i), source[i]);
}
