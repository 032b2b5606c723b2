// Lab (bench/gan_exp_loads.ts): cost of one vec4 load by address space and index kind. Each
// loop trip makes 4 loads of the kind picked by MODE (or one vec4 fma chain for MODE 7) and
// sums them so none is dropped. a: index per invocation; b: uniform per workgroup; it: loop.

struct Params {
  n: u32,
  mode: u32,
}

override MODE: u32 = 0u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<uniform> u4: array<vec4f, 4096>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var tex: texture_2d<f32>;

fn storage4(a: u32) -> vec4f {
  return x4[a & 4095u] + x4[(a + 1u) & 4095u] + x4[(a + 2u) & 4095u] + x4[(a + 3u) & 4095u];
}

fn uniform4(a: u32) -> vec4f {
  return u4[a & 4095u] + u4[(a + 1u) & 4095u] + u4[(a + 2u) & 4095u] + u4[(a + 3u) & 4095u];
}

fn texture4(a: u32) -> vec4f {
  let t0 = textureLoad(tex, vec2u(a & 63u, 0u), 0);
  let t1 = textureLoad(tex, vec2u((a + 1u) & 63u, 1u), 0);
  let t2 = textureLoad(tex, vec2u((a + 2u) & 63u, 2u), 0);
  let t3 = textureLoad(tex, vec2u((a + 3u) & 63u, 3u), 0);
  return t0 + t1 + t2 + t3;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  var s = vec4f(0.0);
  for (var it = 0u; it < p.n; it++) {
    let a = gid.x * 16u + it;
    let b = wid.x * 16u + it;
    switch (MODE) {
      case 0u: { s += storage4(a); }
      case 1u: { s += storage4(b); }
      case 2u: { s += x4[0] + x4[1] + x4[2] + x4[3]; }
      case 3u: { s += uniform4(a); }
      case 4u: { s += uniform4(b); }
      case 5u: { s += u4[0] + u4[1] + u4[2] + u4[3]; }
      case 6u: { s += uniform4(it); }
      case 7u: { s = fma(s, s, s); }
      case 8u: { s += texture4(a); }
      default: { s += texture4(b); }
    }
  }
  out[gid.x] = s.x + s.y + s.z + s.w;
}
