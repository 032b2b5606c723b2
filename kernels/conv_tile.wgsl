// Register-tile helpers shared by the 3x3 convolutions conv2d.wgsl and modconv.wgsl (the
// TypeScript side prepends conv_block.wgsl, then this file, to each source; WGSL has no imports).
// A block is 4 output rows x 4 output columns x 4 output channels held as mat4x4f values
// (column j = pixel j, row q = channel q), so every FMA is an outer product of a vec4 of
// weights with a broadcast input and the whole tile stays in SSA values: a shader compiler
// keeps them in registers or plain spill slots, never in indexed private memory (which costs
// about 10x on llvmpipe). Each kernel defines `Params`, its bindings (the packed weights as
// `wt`), `taps_stride()`, `load_row(plane, yy, k0, scale)` and `store_row(rows, n, o0, m, k0)`.

// Input row over the tile's columns: x[k0 - 1], x[k0 .. k0 + 3], x[k0 + 4 .. k0 + 7],
// x[k0 + 8] (with CB = 1 only m1.x = x[k0 + 4] is read).
struct Wide {
  l: f32,
  m0: vec4f,
  m1: vec4f,
  r: f32,
}

// The 6 inputs one 4-column block reads from a row: x[k - 1], x[k .. k + 3], x[k + 4].
struct Row {
  l: f32,
  m: vec4f,
  r: f32,
}

// Accumulators of one block: a* is block row *; column j is pixel j, row q is channel q.
struct Acc {
  a0: mat4x4f,
  a1: mat4x4f,
  a2: mat4x4f,
  a3: mat4x4f,
}

// The three horizontal taps w0, w1, w2 of one input row.
fn row_taps(a: mat4x4f, w0: vec4f, w1: vec4f, w2: vec4f, v: Row) -> mat4x4f {
  var r = outer_fma(a, w0, vec4f(v.l, v.m.xyz));
  r = outer_fma(r, w1, v.m);
  return outer_fma(r, w2, vec4f(v.m.yzw, v.r));
}

// All 9 taps of one block row from input rows ra, rb, rc (kernel rows 0, 1, 2).
fn block_row(a: mat4x4f, w: Taps, ra: Row, rb: Row, rc: Row) -> mat4x4f {
  var r = row_taps(a, w.w00, w.w01, w.w02, ra);
  r = row_taps(r, w.w10, w.w11, w.w12, rb);
  return row_taps(r, w.w20, w.w21, w.w22, rc);
}

// One block: input rows r0 .. r5 cover block rows 0 .. 3 with their halo.
fn block(a: Acc, w: Taps, r0: Row, r1: Row, r2: Row, r3: Row, r4: Row, r5: Row) -> Acc {
  return Acc(
    block_row(a.a0, w, r0, r1, r2),
    block_row(a.a1, w, r1, r2, r3),
    block_row(a.a2, w, r2, r3, r4),
    block_row(a.a3, w, r3, r4, r5),
  );
}

// Column block cb (0 or 1) of a wide row.
fn cols(v: Wide, cb: u32) -> Row {
  if (cb == 0u) {
    return Row(v.l, v.m0, v.m1.x);
  }
  return Row(v.m0.w, v.m1, v.r);
}

override OG: u32 = 2u; // vec4 output-channel groups per invocation: 1 or 2
override CB: u32 = 2u; // 4-column blocks per invocation: 1 or 2
override RB: u32 = 1u; // 4-row blocks per invocation: 1 or 2

// Every block of one invocation: t{row block}{column block}{channel group}; the blocks the
// overrides leave out are never touched (and removed by the compiler).
struct Tile {
  t000: Acc,
  t001: Acc,
  t010: Acc,
  t011: Acc,
  t100: Acc,
  t101: Acc,
  t110: Acc,
  t111: Acc,
}

fn zero_tile() -> Tile {
  let z = Acc(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  return Tile(z, z, z, z, z, z, z, z);
}

// The 9 taps of packed vec4 index k: the kernel's weights `wt` are packed as
// wt[(i * 9 + u * 3 + v) * groups + o / 4] with `groups` = taps_stride().
fn load_taps(k: u32) -> Taps {
  let c = taps_stride();
  return Taps(
    wt[k],
    wt[k + c],
    wt[k + 2u * c],
    wt[k + 3u * c],
    wt[k + 4u * c],
    wt[k + 5u * c],
    wt[k + 6u * c],
    wt[k + 7u * c],
    wt[k + 8u * c],
  );
}

// The column blocks are written out rather than looped over CB: as a loop (even one of 2 trips)
// the compiler kept the whole tile in memory and modconv ran at half speed on llvmpipe.
// Adds input channel plane `plane` (input rows from my - 1, columns from k0 - 1, values times
// `scale`) with the weights of packed vec4 index k (channel group og; og + 1 too when OG = 2).
// The kernel defines `load_row(plane, yy, k0, scale) -> Wide` and the packed weights `wt`.
fn add_channel(a: Tile, plane: u32, my: i32, k0: u32, scale: f32, k: u32) -> Tile {
  var t = a;
  let w0 = load_row(plane, my - 1, k0, scale);
  let w1 = load_row(plane, my, k0, scale);
  let w2 = load_row(plane, my + 1, k0, scale);
  let w3 = load_row(plane, my + 2, k0, scale);
  let w4 = load_row(plane, my + 3, k0, scale);
  let w5 = load_row(plane, my + 4, k0, scale);
  var w6 = w5;
  var w7 = w5;
  var w8 = w5;
  var w9 = w5;
  if (RB == 2u) {
    w6 = load_row(plane, my + 5, k0, scale);
    w7 = load_row(plane, my + 6, k0, scale);
    w8 = load_row(plane, my + 7, k0, scale);
    w9 = load_row(plane, my + 8, k0, scale);
  }
  let ta = load_taps(k);
  var tb = ta;
  if (OG == 2u) {
    tb = load_taps(k + 1u);
  }
  var r0 = cols(w0, 0u);
  var r1 = cols(w1, 0u);
  var r2 = cols(w2, 0u);
  var r3 = cols(w3, 0u);
  var r4 = cols(w4, 0u);
  var r5 = cols(w5, 0u);
  t.t000 = block(t.t000, ta, r0, r1, r2, r3, r4, r5);
  if (OG == 2u) {
    t.t001 = block(t.t001, tb, r0, r1, r2, r3, r4, r5);
  }
  if (RB == 2u) {
    let r6 = cols(w6, 0u);
    let r7 = cols(w7, 0u);
    let r8 = cols(w8, 0u);
    let r9 = cols(w9, 0u);
    t.t100 = block(t.t100, ta, r4, r5, r6, r7, r8, r9);
    if (OG == 2u) {
      t.t101 = block(t.t101, tb, r4, r5, r6, r7, r8, r9);
    }
  }
  if (CB == 2u) {
    r0 = cols(w0, 1u);
    r1 = cols(w1, 1u);
    r2 = cols(w2, 1u);
    r3 = cols(w3, 1u);
    r4 = cols(w4, 1u);
    r5 = cols(w5, 1u);
    t.t010 = block(t.t010, ta, r0, r1, r2, r3, r4, r5);
    if (OG == 2u) {
      t.t011 = block(t.t011, tb, r0, r1, r2, r3, r4, r5);
    }
    if (RB == 2u) {
      let r6 = cols(w6, 1u);
      let r7 = cols(w7, 1u);
      let r8 = cols(w8, 1u);
      let r9 = cols(w9, 1u);
      t.t110 = block(t.t110, ta, r4, r5, r6, r7, r8, r9);
      if (OG == 2u) {
        t.t111 = block(t.t111, tb, r4, r5, r6, r7, r8, r9);
      }
    }
  }
  return t;
}

// Store of one block whose top-left output pixel is (m0, k0), row by row with the kernel's
// `store_row(rows, n, o0, m, k0)` (its epilogue: bias, noise, activation).
fn store_block(a: Acc, n: u32, o0: u32, m0: u32, k0: u32) {
  store_row(a.a0, n, o0, m0, k0);
  store_row(a.a1, n, o0, m0 + 1u, k0);
  store_row(a.a2, n, o0, m0 + 2u, k0);
  store_row(a.a3, n, o0, m0 + 3u, k0);
}

// Stores every block (output channels from o0, top-left pixel (m0, k0)).
fn store_tile(a: Tile, n: u32, o0: u32, m0: u32, k0: u32) {
  store_block(a.t000, n, o0, m0, k0);
  if (OG == 2u) {
    store_block(a.t001, n, o0 + 4u, m0, k0);
  }
  if (CB == 2u) {
    store_block(a.t010, n, o0, m0, k0 + 4u);
    if (OG == 2u) {
      store_block(a.t011, n, o0 + 4u, m0, k0 + 4u);
    }
  }
  if (RB == 2u) {
    store_block(a.t100, n, o0, m0 + 4u, k0);
    if (OG == 2u) {
      store_block(a.t101, n, o0 + 4u, m0 + 4u, k0);
    }
    if (CB == 2u) {
      store_block(a.t110, n, o0, m0 + 4u, k0 + 4u);
      if (OG == 2u) {
        store_block(a.t111, n, o0 + 4u, m0 + 4u, k0 + 4u);
      }
    }
  }
}
