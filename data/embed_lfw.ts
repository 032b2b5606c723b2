/**
 * Builds the small real face set kept in the repo: `data/embedded/lfw-gray-64/`, from the
 * grayscale LFW copy in `../shared/data/lfw-gray/`. People with >= `--min` images, their
 * first `--max` images (natural order), a central `--crop` square (framing the face like the
 * aligned CelebA crop), area-resized to `--size` and saved as 8-bit gray PNG. Also writes a
 * seeded validation / test identity split beside it.
 *
 *   deno run --allow-read --allow-write --allow-env data/embed_lfw.ts [--overwrite]
 */
import { parseArgs } from "node:util";
import { decodeImageFile } from "./decode.ts";
import { readFolderLayout } from "./layouts.ts";
import { preprocess } from "./preprocess.ts";
import { writePng } from "./png.ts";
import { splitIdentities, writeSplit } from "./splits.ts";

const HERE = new URL(".", import.meta.url).pathname;

const USAGE = `usage: deno run --allow-read --allow-write --allow-env data/embed_lfw.ts [options]
  --src DIR        grayscale LFW, folder per person   (default ${HERE}../../shared/data/lfw-gray)
  --out DIR        output folder                      (default ${HERE}embedded/lfw-gray-64)
  --min N          people with at least N images      (default 10)
  --max N          at most N images per person        (default 20)
  --crop PX        side of the square crop            (default 190)
  --face-y F       face centre's height in the crop   (default 0.58, as in aligned CelebA)
  --size PX        output side                        (default 64)
  --validation N   validation identities in the split (default 40; the rest are test)
  --seed N         split seed                         (default 0)
  --overwrite      replace an existing output folder`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      src: { type: "string", default: `${HERE}../../shared/data/lfw-gray` },
      out: { type: "string", default: `${HERE}embedded/lfw-gray-64` },
      min: { type: "string", default: "10" },
      max: { type: "string", default: "20" },
      crop: { type: "string", default: "190" },
      "face-y": { type: "string", default: "0.58" },
      size: { type: "string", default: "64" },
      validation: { type: "string", default: "40" },
      seed: { type: "string", default: "0" },
      overwrite: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const int = (flag: keyof typeof values): number => {
    const v = Number(values[flag]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${flag} ${values[flag]}: not a count`);
    return v;
  };
  const [min, max, crop, size, nVal, seed] = [
    int("min"),
    int("max"),
    int("crop"),
    int("size"),
    int("validation"),
    int("seed"),
  ];
  const faceY = Number(values["face-y"]);
  if (!(faceY >= 0 && faceY <= 1)) throw new Error(`--face-y ${values["face-y"]}: not in [0, 1]`);
  const src = values.src!, out = values.out!;
  console.log(
    `src ${src}\nout ${out}\nmin ${min} max ${max} crop ${crop} face-y ${faceY} size ${size}`,
  );

  try {
    await Deno.stat(out);
    if (!values.overwrite) throw new Error(`${out} exists; pass --overwrite to replace it`);
    await Deno.remove(out, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }

  const layout = await readFolderLayout(src);
  const people = [...layout.identities].filter(([, paths]) => paths.length >= min);
  let images = 0, bytes = 0;
  for (const [person, paths] of people) {
    await Deno.mkdir(`${out}/${person}`, { recursive: true });
    for (const path of paths.slice(0, max)) {
      const img = await decodeImageFile(path);
      if (img.width < crop || img.height < crop) {
        throw new Error(`${path}: ${img.width}x${img.height} is smaller than --crop ${crop}`);
      }
      // LFW centres the detected face box in the image; aligned CelebA puts its centre
      // 58% of the way down the square crop, so the LFW crop is shifted up to match.
      const x0 = Math.floor((img.width - crop) / 2);
      const y0 = Math.min(
        img.height - crop,
        Math.max(0, Math.round(img.height / 2 - faceY * crop)),
      );
      const square = new Uint8Array(crop * crop * 3);
      for (let y = 0; y < crop; y++) {
        const from = 3 * ((y0 + y) * img.width + x0);
        square.set(img.pixels.subarray(from, from + 3 * crop), 3 * y * crop);
      }
      const t = preprocess(
        { width: crop, height: crop, channels: 3, sourceChannels: 1, pixels: square },
        { size, mode: "gray", crop: "center" },
      );
      const gray = new Uint8Array(size * size);
      for (let i = 0; i < gray.length; i++) {
        gray[i] = Math.round(Math.min(255, Math.max(0, (t[i] + 1) * 127.5)));
      }
      const name = path.slice(path.lastIndexOf("/") + 1).replace(/\.[^.]+$/, ".png");
      const file = `${out}/${person}/${name}`;
      await writePng(file, { width: size, height: size, channels: 1, pixels: gray });
      bytes += (await Deno.stat(file)).size;
      images++;
    }
  }
  const split = splitIdentities(people.map(([p]) => p), {
    validation: nVal,
    seed,
    source: "data/embedded/lfw-gray-64",
  });
  await writeSplit(`${out}.split.json`, split);
  console.log(
    `${people.length} people, ${images} images, ${(bytes / 1e6).toFixed(2)} MB; ` +
      `split: ${split.validation.length} validation, ${split.test.length} test ` +
      `-> ${out}.split.json`,
  );
}

if (import.meta.main) await main();
