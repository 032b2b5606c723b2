/**
 * The paragraphs of the experiments report: what each experiment's numbers
 * show, written from the results and their paired tests. Every claim names
 * its evidence (difference, interval, p) and says so when a difference is
 * within noise.
 */
import type {
  Comparison,
  ExperimentResults,
  ExperimentTable,
  MethodRow,
  RunRecord,
} from "./_experiments_results.ts";
import { atShot, conclusive, seedSpread } from "./_experiments_results.ts";

/** "61.7 %" */
export function pctText(mean: number): string {
  return `${(100 * mean).toFixed(1)} %`;
}

/** "p < 0.001", "p = 0.032", "p = 0.41". */
export function pText(p: number): string {
  if (p < 0.001) return "p < 0.001";
  return `p = ${p < 0.01 ? p.toFixed(3) : p.toFixed(2)}`;
}

/** A signed difference in percentage points with its interval: "+3.1 ± 1.2 pp". */
export function ppText(diff: number, ci95: number): string {
  const v = 100 * diff;
  const sign = v > 0.05 ? "+" : v < -0.05 ? "−" : "±";
  return `${sign}${Math.abs(v).toFixed(1)} ± ${(100 * ci95).toFixed(1)} pp`;
}

/**
 * A comparison as a table cell: "**+3.1 ± 1.2** (p < 0.001)", "−0.4 ± 1.1, within noise", and
 * a trailing ‡ when the difference is beyond noise but no larger than `spread`, the method's
 * seed-to-seed spread.
 */
export function comparisonCell(c: Comparison | undefined, spread?: number): string {
  if (!c) return "—";
  const pp = ppText(c.diff, c.ci95).replace(" pp", "");
  if (c.withinNoise) return `${pp}, within noise`;
  const seedLevel = spread !== undefined && Math.abs(c.diff) <= spread ? " ‡" : "";
  return `**${pp}** (${pText(c.p)})${seedLevel}`;
}

/** The K_test the paper's tables use (5), or the largest one run. */
export function focusShot(r: ExperimentResults): number {
  const shots = r.evaluation.shots;
  return shots.includes(5) ? 5 : Math.max(...shots);
}

function find(r: ExperimentResults, exp: string, a: string, b: string, shot: number) {
  return r.comparisons.find((c) =>
    c.experiment === exp && c.a === a && c.b === b && c.shot === shot
  );
}

/**
 * "is 3.1 ± 1.2 pp above X (p < 0.001)", "is within noise of X (−0.4 ± 1.1 pp, p = 0.47)";
 * with `spread`, a difference no larger than it is said to be within seed-to-seed spread.
 */
function relation(c: Comparison | undefined, other: string, spread?: number): string {
  if (!c) return `has no paired comparison with ${other} yet`;
  if (c.withinNoise) {
    return `is within noise of ${other} (${ppText(c.diff, c.ci95)}, ${pText(c.p)})`;
  }
  const dir = c.diff > 0 ? "above" : "below";
  const text = `is ${ppText(Math.abs(c.diff), c.ci95).slice(1)} ${dir} ${other} (${pText(c.p)})`;
  if (spread === undefined || Math.abs(c.diff) > spread) return text;
  return `${text}, but no more than retraining the method with another seed moves it ` +
    `(${(100 * spread).toFixed(1)} pp), so not conclusive`;
}

/** The seed-to-seed spread at shot k, from the results' comparisons. */
function spreadAt(r: ExperimentResults, k: number): number | undefined {
  return seedSpread(r.comparisons, k);
}

function table(r: ExperimentResults, id: string): ExperimentTable | undefined {
  return r.experiments.find((t) => t.id === id);
}

function rising(row: MethodRow, shots: number[]): boolean {
  const v = shots.map((k) => atShot(row, k)?.mean ?? NaN);
  return v.every((x, i) => i === 0 || x >= v[i - 1] - 1e-9);
}

/** Paragraph of the K_test sweep (paper Fig. 5a). */
export function kTestProse(r: ExperimentResults): string {
  const t = table(r, "kTest");
  const main = t?.rows[0];
  const shots = r.evaluation.shots;
  const k = focusShot(r);
  if (!t || !main?.test) return "The method's run has not finished yet.";
  const lo = Math.min(...shots);
  const parts: string[] = [];
  parts.push(
    `Trained on generated faces only, with no identity label anywhere, the ProtoNet reaches ` +
      `${pctText(atShot(main, lo)!.mean)} at K_test = ${lo} and ` +
      `${pctText(atShot(main, k)!.mean)} at K_test = ${k} (chance is ${
        pctText(1 / r.evaluation.way)
      }).`,
  );
  const done = t.rows.filter((row) => row.test);
  const up = done.filter((row) => rising(row, shots));
  parts.push(
    up.length === done.length
      ? "Every method gains from each extra support photo, the trend of the paper's Fig. 5a."
      : `${up.length} of ${done.length} methods gain from every extra support photo.`,
  );
  const rnd = find(r, "kTest", main.id, "random-init", k);
  parts.push(
    `At K_test = ${k} it ${
      relation(rnd, "the same Conv-4 left at its random init", spreadAt(r, k))
    }`,
  );
  if (rnd && conclusive(rnd, r.comparisons) && rnd.diff > 0) {
    parts[parts.length - 1] += ", so the gain comes from meta-training, not from the architecture.";
  } else if (rnd && rnd.withinNoise) {
    parts[parts.length - 1] +=
      "; at this budget the synthetic tasks taught the network nothing measurable.";
  } else if (rnd && conclusive(rnd, r.comparisons)) {
    parts[parts.length - 1] += "; training on these synthetic tasks made the features worse.";
  } else {
    parts[parts.length - 1] += ".";
  }
  const pix = find(r, "kTest", main.id, "pixels", k);
  parts.push(
    `It ${relation(pix, "pixel prototypes", spreadAt(r, k))}.`,
  );
  const sup = t.rows.find((row) => row.id.startsWith("supervised"));
  const runSup = r.runs.find((x) => x.episodes === "supervised");
  if (sup?.test) {
    const c = find(r, "kTest", main.id, sup.id, k);
    parts.push(
      `The supervised ProtoNet (same network, budget and early stopping, trained on ` +
        `${r.data.identities.train} labelled identities) reaches ` +
        `${pctText(atShot(sup, k)!.mean)}; the label-free model ${
          relation(c, "it", spreadAt(r, k))
        }. ` +
        "In the paper the CelebAMask-HQ model came close to supervised ProtoNets from " +
        "K_test = 4 on and the FFHQ model passed them.",
    );
  } else if (runSup?.status === "skipped") {
    parts.push(`The supervised baseline was skipped: ${runSup.note}.`);
  }
  return parts.join(" ");
}

/** Paragraph of the K_train sweep (paper Fig. 5b). */
export function kTrainProse(r: ExperimentResults): string {
  const t = table(r, "kTrain");
  const k = focusShot(r);
  if (!t || t.rows.length < 2) return "Only one K_train was run, so there is nothing to sweep.";
  const known = t.rows.filter((row) => atShot(row, k));
  if (known.length < 2) return "Fewer than two K_train runs have finished yet.";
  const values = known.map((row) => `${row.label}: ${pctText(atShot(row, k)!.mean)}`);
  const cs = t.rows.filter((row) => row.id !== t.reference)
    .map((row) => ({ row, c: find(r, "kTrain", row.id, t.reference, k) }))
    .filter((x) => x.c);
  const spread = spreadAt(r, k);
  const parts = [`Tested at K_test = ${k}: ${values.join(", ")}.`];
  for (const { row, c } of cs) parts.push(`${row.label} ${relation(c, "K_train = 1", spread)}.`);
  const real = cs.filter((x) => conclusive(x.c!, r.comparisons));
  const worse = real.filter((x) => x.c!.diff < 0).length;
  const better = real.filter((x) => x.c!.diff > 0).length;
  const largest = cs[cs.length - 1];
  if (cs.length > 0 && worse === cs.length) {
    parts.push(
      "As in the paper, more synthetic support images per class lowered real-face accuracy: " +
        "the network learns to cluster generated look-alikes more tightly than real photos of " +
        "one person vary.",
    );
  } else if (better > 0 && worse === 0) {
    parts.push("Unlike the paper's Fig. 5b, a larger K_train helped here.");
  } else if (worse === 0) {
    parts.push(
      "No K_train differs from K_train = 1 beyond both evaluation noise and seed spread, so " +
        "the paper's drop with larger K_train is neither confirmed nor contradicted here.",
    );
  } else if (largest && conclusive(largest.c!, r.comparisons) && largest.c!.diff < 0) {
    parts.push(
      `The largest K_train (${largest.row.label}) is below K_train = 1, the paper's ` +
        "direction, but not every smaller K_train falls in line.",
    );
  } else {
    parts.push("The differences point in both directions; no trend with K_train is shown.");
  }
  return parts.join(" ");
}

/** Paragraph of the sampler comparison. */
export function samplerProse(r: ExperimentResults): string {
  const t = table(r, "samplers");
  const k = focusShot(r);
  if (!t) return "";
  const known = t.rows.filter((row) => atShot(row, k));
  if (known.length < 2) return "Fewer than two samplers have finished yet.";
  const ranked = [...known].sort((a, b) => atShot(b, k)!.mean - atShot(a, k)!.mean);
  const spread = spreadAt(r, k);
  const parts = [
    `At K_test = ${k} the samplers rank ${
      ranked.map((row) => `${row.label.split(" (")[0]} ${pctText(atShot(row, k)!.mean)}`)
        .join(" > ")
    }.`,
  ];
  const say: Record<string, string> = {
    "nomix": "Taking every style input from the near sample (no mixing)",
    "zspace": "Rejection on z distances with no mixing (LASIUM-style)",
    "random": "Random classes without any rejection",
  };
  for (const row of t.rows) {
    if (row.id === t.reference) continue;
    const c = find(r, "samplers", row.id, t.reference, k);
    const sampler = r.runs.find((x) => x.name === row.id)?.sampler ?? "";
    if (c) parts.push(`${say[sampler] ?? row.label} ${relation(c, "style mixing", spread)}.`);
  }
  const sig = r.comparisons.filter((c) =>
    c.experiment === "samplers" && c.shot === k && conclusive(c, r.comparisons)
  );
  parts.push(
    sig.length === 0
      ? "No sampler differs from style mixing beyond both evaluation noise and seed spread, so " +
        "at this budget the choice of sampler is not shown to matter for this generator and data."
      : sig.every((c) => c.diff < 0)
      ? "Every difference beyond both noises favours style mixing, the paper's claim."
      : "At least one alternative beats style mixing beyond both noises, against the paper's " +
        "claim.",
  );
  return parts.join(" ");
}

/** Paragraph of the identity-layer comparison. */
export function layersProse(r: ExperimentResults): string {
  const t = table(r, "layers");
  const k = focusShot(r);
  if (!t) return "";
  const known = t.rows.filter((row) => atShot(row, k));
  if (known.length < 2) return "Fewer than two identity-input choices have finished yet.";
  const best = [...known].sort((a, b) => atShot(b, k)!.mean - atShot(a, k)!.mean)[0];
  const parts = [
    `At K_test = ${k}, ${
      known.map((row) => `${row.label}: ${pctText(atShot(row, k)!.mean)}`).join("; ")
    }.`,
  ];
  for (const row of t.rows) {
    if (row.id === t.reference) continue;
    const c = find(r, "layers", row.id, t.reference, k);
    const name = row.label.split(" (")[0];
    if (c) parts.push(`The ${name} choice ${relation(c, "the default", spreadAt(r, k))}.`);
  }
  const sig = r.comparisons.filter((c) =>
    c.experiment === "layers" && c.shot === k && conclusive(c, r.comparisons)
  );
  const bestName = best.label.split(" (")[0];
  const bestCells = best.label.includes(" (") ? ` (${best.label.split(" (")[1]}` : "";
  parts.push(
    sig.length === 0
      ? "No choice differs from the default beyond both evaluation noise and seed spread; " +
        `${bestName} is ahead only nominally, so the grids below, not the accuracies, are the ` +
        "evidence for where identity lives in this generator."
      : t.rows[0].id === best.id && sig.every((c) => c.diff < 0)
      ? `The ${bestName} choice${bestCells} transfers best to real faces, which suggests those ` +
        "style inputs carry most of the identity in this generator."
      : `The ${bestName} choice${bestCells} is ahead; where the differences go beyond both ` +
        "noises, they suggest where identity lives in this generator.",
  );
  parts.push(
    "In each grid a row keeps the left face's identity inputs and takes everything else from " +
      "the column's face: rows that stay one recognisable person mark inputs that carry " +
      "identity, and rows that copy the column's face mark inputs that do not.",
  );
  return parts.join(" ");
}

/** Paragraph on the validation curves and early stopping (paper Fig. 4). */
export function validationProse(r: ExperimentResults): string {
  const v = r.validation;
  if (!v || v.curves.length === 0) return "The method's run has not finished yet.";
  const main = v.curves.filter((c) => c.shot === v.valShot);
  const best = main.reduce((a, b) => (b.mean > a.mean ? b : a));
  const last = main[main.length - 1];
  const parts = [
    `The checkpoint is chosen on validation identities only (5-way ${v.valShot}-shot, ` +
    `${r.settings.valEpisodes} episodes per point): the best point is at episode ` +
    `${v.bestEpisode} (${pctText(best.mean)}), and training ` +
    (v.stoppedEarly
      ? `stopped early at episode ${v.lastEpisode} after ${r.settings.patience} validations ` +
        "without improvement."
      : `ran its full budget of ${v.lastEpisode} episodes.`),
  ];
  if (last.episode === v.bestEpisode) {
    parts.push("The curve was still at its best at the end, so a larger budget may help.");
  } else if (best.mean - last.mean > last.ci95) {
    parts.push(
      `After its peak the curve fell by ${(100 * (best.mean - last.mean)).toFixed(1)} pp, ` +
        "more than the noise of one point: the network starts to fit the generated faces " +
        "rather than faces in general, the overfitting the paper reports for its " +
        "CelebAMask-HQ generator, and early stopping guards against it.",
    );
  } else {
    parts.push("After its peak the curve stayed within noise of it: no clear overfitting.");
  }
  const early = r.runs.filter((x) => x.status === "done" && x.stoppedEarly).length;
  const done = r.runs.filter((x) => x.status === "done").length;
  parts.push(`Across all runs, ${early} of ${done} finished ones stopped early.`);
  const untrained = r.runs.filter((x) => x.status === "done" && x.bestEpisode === 0);
  if (untrained.length > 0) {
    parts.push(
      `${untrained.length} run(s) (${untrained.map((x) => x.name).join(", ")}) never beat ` +
        "their initial weights on validation, so their checkpoint is the untrained network " +
        "and their test numbers say nothing about their training episodes.",
    );
  }
  return parts.join(" ");
}

/** The opening summary: the method against the baselines at the focus K. */
export function summaryProse(r: ExperimentResults): string {
  const t = table(r, "kTest");
  const main = t?.rows[0];
  const k = focusShot(r);
  if (!t || !main?.test) return "The method's run has not finished yet.";
  const level = (id: string) => atShot(t.rows.find((row) => row.id === id), k);
  const sup = t.rows.find((row) => row.id.startsWith("supervised"));
  const parts = [
    `At K_test = ${k} the label-free ProtoNet scores ${pctText(atShot(main, k)!.mean)}` +
    (sup?.test ? `, the supervised one ${pctText(atShot(sup, k)!.mean)}` : "") +
    `, the untrained Conv-4 ${pctText(level("random-init")?.mean ?? NaN)} and pixel ` +
    `prototypes ${pctText(level("pixels")?.mean ?? NaN)}.`,
    `The method ${
      relation(find(r, "kTest", main.id, "random-init", k), "the untrained network", spreadAt(r, k))
    }` +
    (sup?.test
      ? ` and ${
        relation(find(r, "kTest", main.id, sup.id, k), "the supervised one", spreadAt(r, k))
          .replace(/^is /, "")
      }.`
      : "."),
  ];
  const variants = r.comparisons.filter((c) =>
    c.shot === k && ["kTrain", "samplers", "layers"].includes(c.experiment)
  );
  const spread = spreadAt(r, k);
  if (variants.length > 0) {
    const real = variants.filter((c) => conclusive(c, r.comparisons)).length;
    parts.push(
      (spread === undefined
        ? "The method was trained once, so seed-to-seed spread is unknown. "
        : `Retraining the method with another seed moved it by up to ` +
          `${(100 * spread).toFixed(1)} pp. `) +
        `Of the ${variants.length} differences between trained variants at K_test = ${k} ` +
        `(K_train, samplers, identity inputs), ${real} go beyond ` +
        (spread === undefined ? "evaluation noise" : "both evaluation noise and that spread") +
        "; each section says which.",
    );
  }
  return parts.join(" ");
}

/** Paragraph on the baselines: the floor (no training) and the ceiling (labels). */
export function baselinesProse(r: ExperimentResults): string {
  const t = table(r, "kTest");
  const k = focusShot(r);
  const get = (id: string) => atShot(t?.rows.find((row) => row.id === id), k)?.mean;
  const ours = t?.rows[0] ? atShot(t.rows[0], k)?.mean : undefined;
  const rnd = get("random-init"), pix = get("pixels");
  const supRow = t?.rows.find((row) => row.id.startsWith("supervised"));
  const sup = supRow ? atShot(supRow, k)?.mean : undefined;
  const parts: string[] = [];
  if (rnd !== undefined && pix !== undefined) {
    parts.push(
      `Without any training, pixel prototypes reach ${pctText(pix)} and the random-init ` +
        `Conv-4 ${pctText(rnd)} at K_test = ${k}: the floor a learned embedding has to clear.`,
    );
  }
  if (ours !== undefined && rnd !== undefined && sup !== undefined && sup - rnd > 0.005) {
    const share = (ours - rnd) / (sup - rnd);
    parts.push(
      `Labels lift the same network to ${pctText(sup)}; the label-free method covers ` +
        `${(100 * share).toFixed(0)} % of that lift (from the untrained network to the ` +
        "supervised one) without seeing a single label.",
    );
  } else if (sup !== undefined && rnd !== undefined) {
    parts.push(
      `The supervised ProtoNet reaches ${pctText(sup)}, no better than the untrained network: ` +
        "with this few labelled identities and this budget, labels do not help either.",
    );
  }
  return parts.join(" ");
}

/** Paragraph on the method's seed-to-seed spread (training noise). */
export function seedsProse(r: ExperimentResults): string {
  const t = table(r, "seeds");
  const k = focusShot(r);
  if (!t || t.rows.length < 2) {
    return "The method was trained once (--repeats 1), so its seed-to-seed spread is unknown: " +
      "differences of a point or two between trained variants may not survive retraining.";
  }
  const known = t.rows.filter((row) => atShot(row, k));
  if (known.length < 2) return "The method's repeats have not finished yet.";
  const spread = spreadAt(r, k)!;
  const parts = [
    `Retrained with ${known.length - 1} other seed${known.length > 2 ? "s" : ""} ` +
    "(new initialisation, generated tasks " +
    "and episode order; the same evaluation episodes), the method scores " +
    `${known.map((row) => `${pctText(atShot(row, k)!.mean)} (${row.label})`).join(", ")} ` +
    `at K_test = ${k}: retraining moves it by up to ${(100 * spread).toFixed(1)} pp.`,
    "The paired tests measure evaluation noise only, for one trained network per variant; this " +
    "spread is the training noise they cannot see. A difference between trained variants no " +
    "larger than it (marked ‡) could come from the seed alone.",
  ];
  if (known.length === 2) {
    parts.push("One repeat gives only a rough estimate; --repeats 3 or more gives a better one.");
  }
  return parts.join(" ");
}

/** One line per run for the run table's status column. */
export function runStatus(run: RunRecord): string {
  if (run.status === "skipped") return `skipped: ${run.note}`;
  if (run.status === "pending") return "not run yet";
  return run.stoppedEarly ? "early stop" : "full budget";
}
