/**
 * The synthesis network of a generator built for a fixed batch: every layer's tensors and
 * dispatches are created once here, and `Generator` re-records them on every call.
 */
import type { Gpu } from "../kernels/device.ts";
import type { Dispatch } from "../kernels/kernel.ts";
import { Tensor } from "../kernels/tensor.ts";
import { linear } from "../kernels/linear.ts";
import { demod, squaredTapSums } from "../kernels/demod.ts";
import { modconv, packConv3x3 } from "../kernels/modconv.ts";
import { modconvUp } from "../kernels/modconv_up.ts";
import { upFilterTaps } from "../kernels/up_epilogue.ts";
import { packToRgb, toRgb } from "../kernels/torgb.ts";
import { upfir } from "../kernels/upfir.ts";
import { blockResolutions, type GeneratorWeights } from "./weights.ts";

/** One modulated conv layer's noise input. */
export interface NoiseInput {
  /** Noise images [B, r, r] read by the layer. */
  tensor: Tensor;
  /** The file's fixed noise image [r, r]. */
  constant: Float32Array;
  /** Side r. */
  size: number;
}

/** The built synthesis network. */
export interface SynthesisNet {
  /** Latent input [B, numWs, wDim] read by every affine. */
  ws: Tensor;
  /** Final image [B, imgChannels, R, R]. */
  img: Tensor;
  /** Dispatches of one forward pass, in order. */
  dispatches: Dispatch[];
  /** Noise inputs of the conv layers, in layer order. */
  noise: NoiseInput[];
  /** Intermediate tensors by golden name (`act.b8.conv0.out`, ...). */
  activations: Map<string, Tensor>;
  /** Every tensor owned by the network (freed together). */
  owned: Tensor[];
}

/** Builds all synthesis tensors and dispatches for batch B. */
export function buildSynthesis(gpu: Gpu, weights: GeneratorWeights, batch: number): SynthesisNet {
  const c = weights.config;
  const owned: Tensor[] = [];
  const acts = new Map<string, Tensor>();
  const dispatches: Dispatch[] = [];
  const noise: NoiseInput[] = [];
  const get = (name: string) => weights.tensors.get(name)!.data;
  const upload = (data: Float32Array, shape: number[], label: string) => {
    const t = Tensor.from(gpu, data, shape, label);
    owned.push(t);
    return t;
  };
  const zeros = (shape: number[], label: string) => {
    const t = Tensor.zeros(gpu, shape, label);
    owned.push(t);
    return t;
  };
  const ws = zeros([batch, c.numWs, c.wDim], "synthesis.ws");

  // Style affine of layer `name` reading ws[:, index] → styles [B, cin]; `scale` divides the
  // whole style (sqrt(C) for toRGB).
  const styles = (name: string, cin: number, index: number, scale: number): Tensor => {
    const s = zeros([batch, cin], `${name}.styles`);
    const aw = upload(get(`${name}.affine.weight`), [cin, c.wDim], `${name}.affine.weight`);
    const ab = upload(get(`${name}.affine.bias`), [cin], `${name}.affine.bias`);
    dispatches.push(linear(gpu, ws, aw, ab, s, {
      wGain: 1 / (Math.sqrt(c.wDim) * scale),
      bGain: 1 / scale,
      lrelu: false,
      xStride: c.numWs * c.wDim,
      xOffset: index * c.wDim,
    }));
    acts.set(`act.${name.slice("synthesis.".length)}.styles`, s);
    return s;
  };

  // Modulated conv layer: x [B, I, H, W] → out [B, cout, r, r] (r = 2H when up).
  const conv = (name: string, x: Tensor, cout: number, r: number, index: number, up: boolean) => {
    const cin = x.shape[1];
    const w = get(`${name}.weight`);
    const s = styles(name, cin, index, 1);
    const wsq = upload(squaredTapSums(w, cout, cin), [cout, cin], `${name}.wsq`);
    const d = zeros([batch, cout], `${name}.demod`);
    dispatches.push(demod(gpu, s, wsq, d));
    const packed = packConv3x3(w, cout, cin);
    const n = zeros([batch, r, r], `${name}.noise`);
    noise.push({ tensor: n, constant: get(`${name}.noise_const`), size: r });
    const out = zeros([batch, cout, r, r], `${name}.out`);
    const tensors = {
      x,
      styles: s,
      weight: upload(packed, [packed.length], `${name}.packed`),
      demod: d,
      bias: upload(get(`${name}.bias`), [cout], `${name}.bias`),
      noise: n,
      out,
    };
    const opts = { strength: get(`${name}.noise_strength`)[0], clamp: c.convClamp };
    if (up) {
      const taps = upFilterTaps(get(`${name}.resample_filter`));
      dispatches.push(...modconvUp(gpu, {
        ...tensors,
        taps: upload(taps, [4, 4], `${name}.filter_taps`),
        sums: zeros([batch, cout, r + 4, r + 4], `${name}.sums`),
      }, opts));
    } else {
      dispatches.push(modconv(gpu, tensors, opts));
    }
    acts.set(`act.${name.slice("synthesis.".length)}.out`, out);
    return out;
  };

  // toRGB: x [B, C_r, r, r], skip [B, 3, r, r] → img [B, 3, r, r] (out kept as an activation).
  const rgb = (name: string, x: Tensor, r: number, index: number, skip: Tensor) => {
    const cin = x.shape[1];
    const s = styles(name, cin, index, Math.sqrt(cin));
    const packed = packToRgb(get(`${name}.weight`), c.imgChannels, cin);
    const out = zeros([batch, c.imgChannels, r, r], `${name}.out`);
    const img = zeros([batch, c.imgChannels, r, r], `${name}.img`);
    dispatches.push(toRgb(gpu, {
      x,
      styles: s,
      weight: upload(packed, [packed.length], `${name}.packed`),
      bias: upload(get(`${name}.bias`), [c.imgChannels], `${name}.bias`),
      skip,
      out,
      img,
    }, c.convClamp));
    acts.set(`act.${name.slice("synthesis.".length)}.out`, out);
    return img;
  };

  const c4 = c.channels[4];
  const constant = new Float32Array(batch * c4 * 16);
  for (let n = 0; n < batch; n++) constant.set(get("synthesis.b4.const"), n * c4 * 16);
  let x = upload(constant, [batch, c4, 4, 4], "synthesis.b4.const");
  let img = zeros([batch, c.imgChannels, 4, 4], "synthesis.b4.skip");
  for (const [j, r] of blockResolutions(c).entries()) {
    const b = `synthesis.b${r}`;
    if (r > 4) {
      x = conv(`${b}.conv0`, x, c.channels[r], r, 2 * j - 1, true);
      const filter = new Float32Array(get(`${b}.resample_filter`).map((v) => 4 * v));
      const up = zeros([batch, c.imgChannels, r, r], `${b}.img_up`);
      dispatches.push(upfir(gpu, img, upload(filter, [4, 4], `${b}.filter`), up));
      acts.set(`act.b${r}.img_up`, up);
      img = up;
    }
    x = conv(`${b}.conv1`, x, c.channels[r], r, 2 * j, false);
    img = rgb(`${b}.torgb`, x, r, 2 * j + 1, img);
    acts.set(`act.b${r}.x`, x);
    acts.set(`act.b${r}.img`, img);
  }
  return { ws, img, dispatches, noise, activations: acts, owned };
}
