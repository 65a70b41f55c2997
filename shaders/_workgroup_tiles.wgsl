// The workgroup-memory tiles of gemm_tiled.wgsl and conv2d_tiled.wgsl: a 16x16 workgroup
// computes a 64x64 tile of C, each invocation a 4x4 block held in registers, while K
// advances DEPTH at a time through a 16x64 tile of A and one of B in workgroup memory
// (8 KiB). The kernels fill the tiles (their loads differ), then call multiply_tiles
// between two barriers.

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;

// tile_a[kk * TILE + r] = A[row_base + r, k0 + kk]; tile_b[kk * TILE + col] likewise.
var<workgroup> tile_a: array<f32, 1024>;
var<workgroup> tile_b: array<f32, 1024>;

// The invocation's 4x4 block after one DEPTH-deep step: acc[i] holds row lid.y * 4 + i
// of the tile, columns lid.x * 4 .. + 4.
fn multiply_tiles(acc: mat4x4<f32>, lid: vec3<u32>) -> mat4x4<f32> {
    var r = acc;
    for (var kk = 0u; kk < DEPTH; kk++) {
        let ao = kk * TILE + lid.y * 4u;
        let bo = kk * TILE + lid.x * 4u;
        let av = vec4<f32>(tile_a[ao], tile_a[ao + 1u], tile_a[ao + 2u], tile_a[ao + 3u]);
        let bv = vec4<f32>(tile_b[bo], tile_b[bo + 1u], tile_b[bo + 2u], tile_b[bo + 3u]);
        r[0] += av.x * bv;
        r[1] += av.y * bv;
        r[2] += av.z * bv;
        r[3] += av.w * bv;
    }
    return r;
}
