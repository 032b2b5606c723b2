// Batch-norm backward, pass 2 of 2 (one invocation per channel):
//   dbeta[c] = sum_k part[c, k].x,  dgamma[c] = sum_k part[c, k].y
// Guarded: channels past C.

struct Params {
  channels: u32,
  chunks: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<vec2f>; // [C, chunks]
@group(0) @binding(2) var<storage, read_write> dgamma: array<f32>; // [C]
@group(0) @binding(3) var<storage, read_write> dbeta: array<f32>; // [C]

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= p.channels) { return; }
  var s = vec2f(0.0);
  for (var k = 0u; k < p.chunks; k++) { s += part[c * p.chunks + k]; }
  dbeta[c] = s.x;
  dgamma[c] = s.y;
}
