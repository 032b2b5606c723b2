/**
 * Real-data pipeline: decoders, layouts, preprocessing, dataset, splits, episodes, PNG
 * output. Uses the tiny synthetic fixtures in `tests/fixtures/` (see make_fixtures.ts);
 * tests that read `../shared` skip with a message when it is absent.
 */
import { assert, sharedDir } from "./_helpers.ts";
import {
  cropBox,
  decodeImage,
  decodeImageFile,
  EpisodeSampler,
  FaceDataset,
  ImageDecodeError,
  LayoutError,
  type LinePlotOptions,
  parsePnm,
  preprocess,
  readLayout,
  readSplit,
  renderLinePlot,
  splitFromJson,
  splitIdentities,
  splitToJson,
  uniqueImages,
  writeGridPng,
  writeLinePlotPng,
} from "../data/mod.ts";
import { solidJpeg, solidPgm } from "./fixtures/make_fixtures.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const FOLDERS = `${FIXTURES}folders`;
const CELEBA = `${FIXTURES}celeba`;
const SHARED = sharedDir();
const EMBEDDED = new URL("../data/embedded/lfw-gray-64", import.meta.url).pathname;

function rgbAt(img: { width: number; pixels: Uint8Array }, x: number, y: number): number[] {
  const i = 3 * (y * img.width + x);
  return [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
}

async function rejectsWith(fn: () => Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    assert.match((err as Error).message, pattern);
    return err as Error;
  }
  throw new assert.AssertionError({ message: `expected an error matching ${pattern}` });
}

Deno.test("decodeImage reads known pixels from PNG, PGM (P5, P2) and JPEG", async () => {
  const png = await decodeImageFile(`${FOLDERS}/alice/1.png`);
  assert.deepStrictEqual([png.width, png.height, png.channels, png.sourceChannels], [8, 8, 3, 3]);
  assert.deepStrictEqual(rgbAt(png, 7, 7), [200, 30, 40]);
  const p5 = await decodeImageFile(`${FOLDERS}/alice/2.pgm`);
  assert.deepStrictEqual([p5.sourceChannels, ...rgbAt(p5, 3, 4)], [1, 100, 100, 100]);
  const p2 = await decodeImageFile(`${FOLDERS}/alice/3.pgm`);
  assert.deepStrictEqual(rgbAt(p2, 0, 0), [150, 150, 150]);
  const wide = await decodeImageFile(`${FOLDERS}/bob/10.png`);
  assert.deepStrictEqual([wide.width, wide.height, ...rgbAt(wide, 11, 7)], [12, 8, 110, 110, 110]);
  const jpg = await decodeImageFile(`${FOLDERS}/alice/4.jpg`);
  const [r, g, b] = rgbAt(jpg, 5, 5);
  assert.ok(
    Math.abs(r - 40) <= 2 && Math.abs(g - 160) <= 2 && Math.abs(b - 90) <= 2,
    `${r},${g},${b}`,
  );
  const gray = await decodeImage(solidJpeg(16, 8, [77]), "gray.jpg");
  assert.deepStrictEqual([gray.width, gray.height, gray.sourceChannels], [16, 8, 1]);
  assert.deepStrictEqual(rgbAt(gray, 15, 7), [77, 77, 77]);
});

Deno.test("parsePnm scales 16-bit samples and reads comments", () => {
  const head = new TextEncoder().encode("P5 # c\n2 1\n65535\n");
  const bytes = new Uint8Array([...head, 0xff, 0xff, 0x80, 0x00]);
  const img = parsePnm(bytes, "deep.pgm");
  assert.deepStrictEqual([...img.pixels], [255, 255, 255, 128, 128, 128]);
});

Deno.test("decoders report truncated, corrupt and unsupported files by name", async () => {
  const trunc = await rejectsWith(
    () => decodeImageFile(`${FOLDERS}/carol/3-truncated.png`),
    /3-truncated\.png: truncated image/,
  );
  assert.ok(trunc instanceof ImageDecodeError && trunc.reason === "truncated");
  await rejectsWith(
    () => decodeImageFile(`${FOLDERS}/carol/4-corrupt.jpg`),
    /4-corrupt\.jpg: corrupt image/,
  );
  const jpg = solidJpeg(8, 8, [10, 200, 30]);
  await rejectsWith(() => decodeImage(jpg.slice(0, 150), "cut.jpg"), /cut\.jpg: truncated/);
  await rejectsWith(() => decodeImage(solidPgm(8, 8, 1).slice(0, 30), "c.pgm"), /truncated/);
  await rejectsWith(() => decodeImage(new TextEncoder().encode("GIF89a"), "a.gif"), /unsupp/);
  await rejectsWith(() => decodeImage(new Uint8Array(0), "empty.png"), /empty\.png: trunc/);
  // The JPEG decoder still works after a failure.
  assert.deepStrictEqual((await decodeImage(jpg, "ok.jpg")).width, 8);
});

Deno.test("readLayout detects folder and CelebA layouts in natural order", async () => {
  const folders = await readLayout(FOLDERS);
  assert.strictEqual(folders.kind, "folders");
  assert.strictEqual(folders.crop, "center");
  assert.deepStrictEqual([...folders.identities.keys()], ["alice", "bob", "carol", "dave"]);
  const bob = folders.identities.get("bob")!.map((p) => p.slice(p.lastIndexOf("/") + 1));
  assert.deepStrictEqual(bob, ["1.png", "2.png", "10.png"]);
  assert.strictEqual(folders.identities.get("alice")!.length, 4, "notes.txt is not an image");
  const celeba = await readLayout(CELEBA);
  assert.strictEqual(celeba.kind, "celeba");
  assert.strictEqual(celeba.crop, "celeba");
  assert.deepStrictEqual([...celeba.identities.keys()], ["7", "12"]);
  assert.strictEqual(celeba.identities.get("7")!.length, 3);
});

Deno.test("readLayout errors name a missing or empty dir, bad line or missing file", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "layout_test_" });
  try {
    await rejectsWith(() => readLayout(`${tmp}/nope`), /nope: face data directory does not/);
    await Deno.mkdir(`${tmp}/empty`);
    await rejectsWith(() => readLayout(`${tmp}/empty`), /empty: directory is empty/);
    await Deno.mkdir(`${tmp}/flat`);
    await Deno.writeTextFile(`${tmp}/flat/readme.txt`, "x");
    await rejectsWith(() => readLayout(`${tmp}/flat`), /no identity folders with images/);
    const c = `${tmp}/celeba`;
    await Deno.mkdir(`${c}/img_align_celeba`, { recursive: true });
    await Deno.writeFile(`${c}/img_align_celeba/000001.jpg`, solidJpeg(8, 16, [1, 2, 3]));
    await Deno.writeTextFile(`${c}/identity_CelebA.txt`, "000001.jpg 5\n000002.jpg 5\n");
    const missing = await rejectsWith(() => readLayout(c), /identity_CelebA\.txt:2: names/);
    assert.ok(missing instanceof LayoutError && /000002\.jpg/.test(missing.message));
    await Deno.writeTextFile(`${c}/identity_CelebA.txt`, "000001.jpg 5\n\n000001.jpg five\n");
    await rejectsWith(() => readLayout(c), /identity_CelebA\.txt:3: malformed line/);
    await Deno.remove(`${c}/identity_CelebA.txt`);
    await rejectsWith(() => readLayout(c), /identity_CelebA\.txt: missing/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

/** A `w x h` image whose value at (x, y) is `f(x, y)` on all channels. */
function synthetic(w: number, h: number, f: (x: number, y: number) => number[]) {
  const pixels = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) pixels.set(f(x, y), 3 * (y * w + x));
  return { width: w, height: h, channels: 3 as const, sourceChannels: 3 as const, pixels };
}

Deno.test("cropBox: CelebA rows 20..197 square, centred squares elsewhere", () => {
  assert.deepStrictEqual(cropBox(178, 218, "celeba"), { x: 0, y: 20, width: 178, height: 178 });
  assert.deepStrictEqual(cropBox(89, 109, "celeba"), { x: 0, y: 10, width: 89, height: 89 });
  assert.deepStrictEqual(cropBox(250, 250, "center"), { x: 0, y: 0, width: 250, height: 250 });
  assert.deepStrictEqual(cropBox(92, 112, "center"), { x: 0, y: 10, width: 92, height: 92 });
  assert.deepStrictEqual(cropBox(12, 8, "center"), { x: 2, y: 0, width: 8, height: 8 });
  assert.throws(() => cropBox(250, 250, "celeba"), /CelebA crop needs height/);
});

Deno.test("preprocess crops CelebA rows, maps to [-1, 1] and area-averages", () => {
  const rows = synthetic(178, 218, (_x, y) => [y, y, y]);
  const full = preprocess(rows, { size: 178, mode: "rgb", crop: "celeba" });
  const toByte = (v: number) => Math.round((v + 1) * 127.5);
  assert.strictEqual(toByte(full[0]), 20, "first row of the crop is image row 20");
  assert.strictEqual(toByte(full[178 * 178 - 1]), 197, "last row is image row 197");
  const half = preprocess(rows, { size: 89, mode: "rgb", crop: "celeba" });
  assert.ok(Math.abs((half[0] + 1) * 127.5 - 20.5) < 1e-4, "rows 20 and 21 averaged");

  const checker = synthetic(4, 4, (x, y) => ((x + y) % 2 ? [255, 255, 255] : [0, 0, 0]));
  const down = preprocess(checker, { size: 2, mode: "rgb", crop: "center" });
  for (const v of down) assert.ok(Math.abs(v) < 1e-6, `checkerboard averages to 0, got ${v}`);

  const solid = synthetic(8, 8, () => [255, 0, 51]);
  const t = preprocess(solid, { size: 5, mode: "rgb", crop: "center" });
  assert.strictEqual(t.length, 3 * 5 * 5);
  assert.ok(Math.abs(t[0] - 1) < 1e-6 && Math.abs(t[25] + 1) < 1e-6);
  assert.ok(Math.abs(t[50] - (51 / 127.5 - 1)) < 1e-6);
  const g = preprocess(solid, { size: 5, mode: "gray", crop: "center" });
  const lum = (0.299 * 255 + 0.114 * 51) / 127.5 - 1;
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(g[c * 25 + 7] - lum) < 1e-5, `gray c${c}`);
  const up = preprocess(synthetic(2, 2, () => [0, 255, 0]), {
    size: 6,
    mode: "rgb",
    crop: "center",
  });
  assert.ok(up.every((v, i) => Math.abs(v - (i >= 36 && i < 72 ? 1 : -1)) < 1e-6), "upsample");
});

Deno.test("FaceDataset filters by minImages, caches tensors, loads identities", async () => {
  const ds = await FaceDataset.open(FOLDERS, { size: 4, mode: "gray", minImages: 2 });
  assert.deepStrictEqual(ds.identities, ["alice", "bob", "carol"]);
  assert.deepStrictEqual(ds.belowMinimum, ["dave"]);
  const a = await ds.image("alice", 1);
  assert.strictEqual(a.length, 3 * 4 * 4);
  assert.ok(Math.abs(a[0] - (100 / 127.5 - 1)) < 1e-5);
  assert.strictEqual(await ds.image("alice", 1), a, "second load comes from the cache");
  const bob = await ds.loadIdentity("bob");
  assert.deepStrictEqual(bob.map((b) => b.index), [0, 1, 2]);
  await rejectsWith(() => ds.image("bob", 3), /bob: image index 3 outside 0\.\.2/);
  const celeba = await FaceDataset.open(CELEBA, { size: 8 });
  assert.strictEqual(celeba.kind, "celeba");
  const white = await celeba.image("7", 0);
  assert.ok(white.every((v) => Math.abs(v - (250 / 127.5 - 1)) < 0.02));
});

Deno.test("FaceDataset skips corrupt images and reports them; strict mode throws", async () => {
  const ds = await FaceDataset.open(FOLDERS, { size: 4, minImages: 3 });
  assert.deepStrictEqual(ds.identities, ["alice", "bob", "carol"]);
  const report = await ds.verify();
  assert.strictEqual(report.checked, 11);
  assert.deepStrictEqual(report.skipped.map((s) => s.path.split("/").pop()), [
    "3-truncated.png",
    "4-corrupt.jpg",
  ]);
  assert.deepStrictEqual(report.droppedIdentities, ["carol"], "carol keeps only 2 of 4");
  assert.deepStrictEqual(ds.identities, ["alice", "bob"]);
  assert.strictEqual(ds.skipped.length, 2);

  const lax = await FaceDataset.open(FOLDERS, { size: 4 });
  assert.deepStrictEqual((await lax.loadIdentity("carol")).map((l) => l.index), [0, 1]);
  const strict = await FaceDataset.open(FOLDERS, { size: 4, onCorrupt: "error" });
  await rejectsWith(() => strict.verify(), /carol\/3-truncated\.png: truncated image/);
});

Deno.test("splitIdentities is seeded, disjoint and serialisable", async () => {
  const ids = Array.from({ length: 50 }, (_, i) => `id${i}`);
  const a = splitIdentities(ids, { validation: 10, seed: 3 });
  assert.strictEqual(a.validation.length, 10);
  assert.strictEqual(a.test.length, 40);
  assert.ok(!a.validation.some((id) => a.test.includes(id)), "disjoint");
  assert.deepStrictEqual(splitIdentities([...ids].reverse(), { validation: 10, seed: 3 }), a);
  assert.notDeepStrictEqual(
    splitIdentities(ids, { validation: 10, seed: 4 }).validation,
    a.validation,
  );
  const f = splitIdentities(ids, { validation: 0.2, test: 0.5, seed: 1 });
  assert.deepStrictEqual([f.validation.length, f.test.length], [10, 25]);
  assert.throws(() => splitIdentities(ids, { validation: 30, test: 30, seed: 1 }), /only 50/);
  assert.throws(() => splitIdentities(ids, { validation: 1.5, seed: 1 }), /validation size 1\.5/);
  assert.deepStrictEqual(splitFromJson(splitToJson(a), "a.json"), a);
  const bad = JSON.stringify({ ...a, test: [...a.test, a.validation[0]] });
  assert.throws(() => splitFromJson(bad, "bad.json"), /bad\.json: identities in both/);
  const saved = await readSplit(`${EMBEDDED}.split.json`);
  assert.ok(saved.validation.length > 0 && !saved.validation.some((v) => saved.test.includes(v)));
});

Deno.test("EpisodeSampler draws N distinct identities and K+Q distinct images, per seed", () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 30; i++) counts.set(`p${i}`, 3 + (i % 9)); // 3..11 images
  const spec = { ways: 5, shots: 2, queries: 3 };
  const sampler = new EpisodeSampler(counts, spec, 42);
  const eps = sampler.episodes(200);
  for (const ep of eps) {
    const names = ep.classes.map((c) => c.identity);
    assert.strictEqual(new Set(names).size, 5);
    for (const c of ep.classes) {
      const all = [...c.support, ...c.query];
      assert.deepStrictEqual([c.support.length, c.query.length], [2, 3]);
      assert.strictEqual(new Set(all).size, 5, "support and query images are distinct");
      assert.ok(all.every((i) => Number.isInteger(i) && i >= 0 && i < counts.get(c.identity)!));
    }
  }
  assert.deepStrictEqual(new EpisodeSampler(counts, spec, 42).episodes(200), eps);
  assert.deepStrictEqual(new EpisodeSampler(counts, spec, 42).episode(150), eps[150]);
  assert.notDeepStrictEqual(new EpisodeSampler(counts, spec, 43).episodes(5), eps.slice(0, 5));
  const used = new Set(eps.flatMap((e) => e.classes.map((c) => c.identity)));
  assert.ok([...used].every((id) => counts.get(id)! >= 5), "only identities with >= K+Q");
  const refs = uniqueImages(eps);
  assert.strictEqual(new Set(refs.map((r) => `${r.identity}/${r.index}`)).size, refs.length);
  assert.throws(
    () => new EpisodeSampler(counts, { ways: 5, shots: 5, queries: 6 }, 1),
    /need 5 identities with >= 11 images \(K=5 \+ Q=6\), but only 3 of 30/,
  );
  assert.throws(() => new EpisodeSampler(counts, { ways: 0, shots: 1, queries: 1 }, 1), /ways 0/);
});

Deno.test("writeGridPng output decodes to the grid it was given", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "png_test_" });
  try {
    const side = 3;
    const images = [-1, 0, 1].map((v) => new Float32Array(3 * side * side).fill(v));
    images[2][side * side] = -1; // green channel, first pixel of the third image
    await writeGridPng(`${tmp}/grid.png`, images, 2, 2, { scale: 2, pad: 1 });
    const img = await decodeImageFile(`${tmp}/grid.png`);
    assert.deepStrictEqual([img.width, img.height], [2 * 6 + 3, 2 * 6 + 3]);
    assert.deepStrictEqual(rgbAt(img, 0, 0), [255, 255, 255], "padding");
    assert.deepStrictEqual(rgbAt(img, 1, 1), [0, 0, 0]);
    assert.deepStrictEqual(rgbAt(img, 8, 1), [128, 128, 128]);
    assert.deepStrictEqual(rgbAt(img, 1, 8), [255, 0, 255]);
    assert.deepStrictEqual(rgbAt(img, 3, 8), [255, 255, 255]);
    assert.deepStrictEqual(rgbAt(img, 10, 10), [255, 255, 255], "empty cell");
    await rejectsWith(() => writeGridPng(`${tmp}/x.png`, images, 1, 2), /3 images do not fit/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("writeLinePlotPng writes a valid PNG with the curves drawn", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "plot_test_" });
  try {
    const xs = [0, 1000, 2000, 3000, 4000];
    const series = [
      { name: "val acc", xs, ys: [0.2, 0.35, 0.5, 0.55, 0.6] },
      { name: "test acc", xs, ys: [0.2, 0.3, 0.45, NaN, 0.58], color: "#ff8800" },
    ];
    const opts: LinePlotOptions = {
      title: "5-way 1-shot",
      xLabel: "step",
      yLabel: "accuracy",
      yRange: [0, 1],
    };
    await writeLinePlotPng(`${tmp}/plot.png`, series, opts);
    const img = await decodeImageFile(`${tmp}/plot.png`);
    assert.deepStrictEqual([img.width, img.height], [640, 420]);
    let orange = 0, dark = 0;
    for (let i = 0; i < img.pixels.length; i += 3) {
      const [r, g, b] = [img.pixels[i], img.pixels[i + 1], img.pixels[i + 2]];
      if (r === 255 && g === 136 && b === 0) orange++;
      if (r === 0 && g === 0 && b === 0) dark++;
    }
    assert.ok(orange > 50, `orange pixels ${orange}`);
    assert.ok(dark > 500, `axis and label pixels ${dark}`);
    assert.throws(() => renderLinePlot([{ name: "x", xs: [1], ys: [] }], opts), /1 xs but 0 ys/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("embedded lfw-gray-64 opens as 64x64 gray faces without a second crop", async () => {
  const ds = await FaceDataset.open(EMBEDDED, { size: 64, mode: "gray", minImages: 10 });
  assert.strictEqual(ds.identities.length, 158);
  const path = ds.imagePaths(ds.identities[0])[0];
  const raw = await decodeImageFile(path);
  assert.deepStrictEqual([raw.width, raw.height, raw.sourceChannels], [64, 64, 1]);
  const t = await ds.image(ds.identities[0], 0);
  assert.ok(Math.abs((t[64 * 10 + 20] + 1) * 127.5 - rgbAt(raw, 20, 10)[0]) < 1e-3);
});

Deno.test({
  name: "shared celeba-mini has 237 identities, 184 with >= 10 images, all decodable",
  ignore: SHARED === undefined,
  fn: async () => {
    const dir = `${SHARED}data/celeba-mini`;
    const all = await FaceDataset.open(dir, { size: 32 });
    assert.strictEqual(all.identities.length, 237);
    const ten = await FaceDataset.open(dir, { size: 32, minImages: 10 });
    assert.strictEqual(ten.identities.length, 184);
    const first = ten.identities[0];
    const raw = await decodeImageFile(ten.imagePaths(first)[0]);
    assert.deepStrictEqual([raw.width, raw.height], [178, 218]);
    const imgs = await ten.loadIdentity(first);
    assert.ok(imgs.length >= 10 && imgs.every((i) => i.tensor.every((v) => v >= -1 && v <= 1)));
    const lfw = await FaceDataset.open(`${SHARED}data/lfw-gray`, { size: 32, minImages: 10 });
    assert.strictEqual(lfw.identities.length, 158);
  },
});
if (SHARED === undefined) console.warn("../shared is absent: the celeba-mini test is skipped");
