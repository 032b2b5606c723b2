// Generated image -> classifier input, the same conversion real photos get.
//
//   q[n,c,y,x]   = clamp(floor(img[n,c,y,x] * 127.5 + 128), 0, 255) / 127.5 - 1
//                  (the uint8 round trip real photos go through)
//   g[n,c,y,x]   = gray ? 0.299 q[n,0] + 0.587 q[n,1] + 0.114 q[n,2] : q[n,c]
//   out[n,c,Y,X] = area average of g over the source box of output pixel (Y, X)
//
// img: [N, 3, R, R], out: [N, 3, S, S]. The box of output pixel Y spans source
// rows [Y·R/S, (Y+1)·R/S); partly covered rows get fractional weights, so any
// R/S ratio works (S <= R). One invocation per output pixel computes all three
// channels. Guarded: invocations past N·S·S return.

struct Params { n: u32, r: u32, s: u32, gray: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> img: array<f32>;        // [N, 3, R, R]
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [N, 3, S, S]

fn quantized(i: u32) -> f32 {
  return clamp(floor(img[i] * 127.5 + 128.0), 0.0, 255.0) / 127.5 - 1.0;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let idx = gid.x;
  if (idx >= p.n * p.s * p.s) { return; }
  let n = idx / (p.s * p.s);
  let oy = (idx / p.s) % p.s;
  let ox = idx % p.s;
  let scale = f32(p.r) / f32(p.s);
  let y0 = f32(oy) * scale;
  let y1 = y0 + scale;
  let x0 = f32(ox) * scale;
  let x1 = x0 + scale;
  let plane = p.r * p.r;
  var acc = vec3f(0.0);
  for (var sy = u32(floor(y0)); f32(sy) < y1 && sy < p.r; sy++) {
    let wy = min(y1, f32(sy + 1u)) - max(y0, f32(sy));
    for (var sx = u32(floor(x0)); f32(sx) < x1 && sx < p.r; sx++) {
      let wx = min(x1, f32(sx + 1u)) - max(x0, f32(sx));
      let base = n * 3u * plane + sy * p.r + sx;
      let q = vec3f(quantized(base), quantized(base + plane), quantized(base + 2u * plane));
      acc += wy * wx * q;
    }
  }
  acc /= scale * scale;
  if (p.gray != 0u) {
    acc = vec3f(dot(acc, vec3f(0.299, 0.587, 0.114)));
  }
  let oplane = p.s * p.s;
  let o = n * 3u * oplane + oy * p.s + ox;
  out[o] = acc.x;
  out[o + oplane] = acc.y;
  out[o + 2u * oplane] = acc.z;
}
