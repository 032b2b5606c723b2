// The 3x3-conv building blocks shared by conv2d, modconv, modconv_up and the weight gradient (the
// TypeScript side prepends this file to each source; WGSL has no imports): the 9 weight taps of
// a vec4 group of output channels, and the outer-product FMA that adds w times 4 broadcast
// inputs to a 4 x 4 block (column j = pixel j, row q = channel q).

// The 9 taps (u, v) of one vec4 channel group.
struct Taps {
  w00: vec4f,
  w01: vec4f,
  w02: vec4f,
  w10: vec4f,
  w11: vec4f,
  w12: vec4f,
  w20: vec4f,
  w21: vec4f,
  w22: vec4f,
}

fn outer_fma(a: mat4x4f, w: vec4f, xs: vec4f) -> mat4x4f {
  return mat4x4f(
    fma(w, vec4f(xs.x), a[0]),
    fma(w, vec4f(xs.y), a[1]),
    fma(w, vec4f(xs.z), a[2]),
    fma(w, vec4f(xs.w), a[3]),
  );
}
