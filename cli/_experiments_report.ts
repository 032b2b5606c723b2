/**
 * `report.md` of an experiments run, drawn from `results.json` alone: the
 * main table (like the paper's Table 1), one section per experiment with its
 * table, paired comparisons, figures and a paragraph on what the numbers
 * show, then the runs, the statistics and the full configuration.
 */
import {
  baselinesProse,
  comparisonCell,
  kTestProse,
  kTrainProse,
  layersProse,
  runStatus,
  samplerProse,
  seedsProse,
  summaryProse,
  validationProse,
} from "./_experiments_prose.ts";
import {
  atShot,
  type ExperimentResults,
  type ExperimentTable,
  type MethodRow,
  seedSpread,
  type ShotResult,
} from "./_experiments_results.ts";

/**
 * A Markdown table; `align` holds "l" or "r" per column (default: columns whose cells all
 * start with a digit, sign or dash are right-aligned, the rest left-aligned).
 */
export function markdownTable(header: string[], rows: string[][], align?: string[]): string {
  const numeric = (c: string) => /^(\*\*)?[-+−±\d—]/.test(c);
  const a = align ?? header.map((_, i) => (rows.every((r) => numeric(r[i] ?? "")) ? "r" : "l"));
  const rule = a.map((x) => (x === "r" ? "---:" : ":---"));
  const line = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [line(header), `|${rule.map((r) => ` ${r} `).join("|")}|`, ...rows.map(line)].join("\n");
}

/** A result cell: "61.7 ± 0.7", or "—" when the run has not finished. */
export function accuracyCell(r: ShotResult | undefined): string {
  return r ? `${(100 * r.mean).toFixed(1)} ± ${(100 * r.ci95).toFixed(1)}` : "—";
}

function accuracyTable(rows: MethodRow[], shots: number[], first = "method"): string {
  return markdownTable(
    [first, ...shots.map((k) => `K_test = ${k}`)],
    rows.map((row) => [row.label, ...shots.map((k) => accuracyCell(atShot(row, k)))]),
  );
}

function comparisonTable(r: ExperimentResults, t: ExperimentTable): string {
  const shots = r.evaluation.shots;
  const others = t.rows.filter((row) => row.id !== t.reference);
  const ref = t.rows.find((row) => row.id === t.reference)?.label ?? t.reference;
  if (others.length === 0) return "";
  const short: Record<string, string> = {
    seeds: `seed ${r.settings.seed}`,
    kTrain: "K_train = 1",
    samplers: "style mixing",
    layers: "default inputs",
  };
  const label = t.id === "kTest" ? "ours − other (pp)" : `other − ${short[t.id] ?? ref} (pp)`;
  const rows = others.map((row) => {
    const [a, b] = t.id === "kTest" ? [t.reference, row.id] : [row.id, t.reference];
    return [
      row.label,
      ...shots.map((k) =>
        comparisonCell(
          r.comparisons.find((c) =>
            c.experiment === t.id && c.a === a && c.b === b && c.shot === k
          ),
          t.id === "seeds" ? undefined : seedSpread(r.comparisons, k),
        )
      ),
    ];
  });
  const marked = t.id !== "seeds" && r.comparisons.some((c) => c.experiment === "seeds")
    ? "; ‡ = no larger than the method's seed-to-seed spread (section 1b)"
    : "";
  return `Paired differences on the same ${r.evaluation.episodes} test episodes ` +
    `(mean ± 95% CI in percentage points; **bold** = beyond evaluation noise${marked}):\n\n` +
    markdownTable([label, ...shots.map((k) => `K_test = ${k}`)], rows);
}

function figure(r: ExperimentResults, file: string): string {
  const f = r.figures.find((x) => x.file === file);
  return f ? `![${f.caption}](${f.file})\n\n*${f.caption}*` : "";
}

function figuresMatching(r: ExperimentResults, keep: (file: string) => boolean): string {
  return r.figures.filter((f) => keep(f.file))
    .map((f) => `**${f.caption}**\n\n![${f.caption}](${f.file})`).join("\n\n");
}

/** Task pictures of the runs in one experiment (and of the supervised run with samplers). */
function taskFigures(r: ExperimentResults, id: string): string {
  const names = r.runs.filter((x) =>
    x.experiments.includes(id as never) || (id === "samplers" && x.episodes === "supervised")
  ).map((x) => `task-${x.name}.png`);
  return figuresMatching(r, (file) => names.includes(file));
}

function mainTable(r: ExperimentResults): string {
  const shots = r.evaluation.shots;
  const training = (row: MethodRow): string => {
    const run = r.runs.find((x) => x.name === row.id);
    if (!run) return "none";
    if (run.episodes === "supervised") return `${r.data.identities.train} labelled identities`;
    return "generated faces, no labels";
  };
  const samplers = r.experiments.find((t) => t.id === "samplers")?.rows ?? [];
  const kTest = r.experiments.find((t) => t.id === "kTest")?.rows ?? [];
  const seeds = r.experiments.find((t) => t.id === "seeds")?.rows ?? [];
  const rows: MethodRow[] = [
    kTest[0],
    ...seeds.slice(1).map((row) => ({ ...row, label: `style mixing, ${row.label}` })),
    ...samplers.slice(1),
    ...kTest.slice(1),
  ].filter((x) => x);
  return markdownTable(
    ["method", "training data", ...shots.map((k) => `K_test = ${k}`)],
    rows.map((row) => [
      row.label,
      training(row),
      ...shots.map((k) => accuracyCell(atShot(row, k))),
    ]),
  );
}

function runsTable(r: ExperimentResults): string {
  return markdownTable(
    ["run", "what it varies", "episodes", "best val. episode", "stop", "wall time"],
    r.runs.map((run) => [
      `\`${run.name}\``,
      run.label,
      run.episodesTrained === undefined ? "—" : String(run.episodesTrained),
      run.bestEpisode === undefined ? "—" : String(run.bestEpisode),
      runStatus(run),
      run.wallSeconds === undefined ? "—" : `${(run.wallSeconds / 60).toFixed(1)} min`,
    ]),
  );
}

function validationTable(r: ExperimentResults): string {
  const v = r.validation;
  if (!v || v.curves.length === 0) return "";
  const shots = [...new Set(v.curves.map((c) => c.shot))].sort((a, b) => a - b);
  const episodes = [...new Set(v.curves.map((c) => c.episode))].sort((a, b) => a - b);
  return markdownTable(
    ["episode", ...shots.map((k) => `val. K = ${k}`)],
    episodes.map((e) => [
      e === v.bestEpisode ? `**${e}** (checkpoint)` : String(e),
      ...shots.map((k) => {
        const c = v.curves.find((x) => x.episode === e && x.shot === k);
        return c ? `${(100 * c.mean).toFixed(1)} ± ${(100 * c.ci95).toFixed(1)}` : "—";
      }),
    ]),
  );
}

const PAPER_TABLE = markdownTable(
  ["paper (CelebA, 1024 px generators)", "K_test = 1", "2", "4", "5"],
  [
    ["CelebAMask-HQ StyleGAN", "48", "62", "70", "72"],
    ["FFHQ StyleGAN", "63", "74", "76", "86"],
  ],
);

/** Pretty JSON with lists of numbers and strings kept on one line. */
export function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /\[\s+([^[\]{}]*?)\s+\]/g,
    (_, inner: string) => `[${inner.split(/,\s+/).join(", ")}]`,
  );
}

/** Renders the whole report. */
export function renderReport(r: ExperimentResults): string {
  const e = r.evaluation;
  const done = r.runs.filter((x) => x.status === "done").length;
  const section = (id: string) => r.experiments.find((t) => t.id === id)!;
  const s = r.settings as Record<string, unknown>;
  const minutes = (sec: number) => `${(sec / 60).toFixed(1)} min`;
  const out: string[] = [];
  out.push("# Label-free few-shot face recognition: the paper's experiments\n");
  out.push(
    r.status === "complete"
      ? `All ${r.runs.length} training runs finished.`
      : `**Partial report:** ${done} of ${r.runs.length} training runs have finished; cells ` +
        "marked — are still to come. Rerunning the same command resumes the rest.",
  );
  out.push(
    `\n${e.way}-way classification of real faces by a Conv-4 ProtoNet meta-trained on ` +
      `StyleGAN2-generated tasks. Generator: \`${r.generator.path}\` ` +
      `(${r.generator.description}). ` +
      `Real faces: ${r.data.description}. Input: ${r.data.inputMode} ` +
      `${s.imageSize}×${s.imageSize}. Preset: ${r.preset}. Adapter: ${r.adapter}` +
      `${r.softwareAdapter ? " (software)" : ""}. Wall time: ${minutes(r.wallSeconds)}` +
      (r.sessions.length > 1 ? ` over ${r.sessions.length} sessions` : "") +
      ` (training runs: ${minutes(r.runSeconds)}).\n`,
  );
  out.push("## Main table\n");
  out.push(
    `Test accuracy (%) on ${r.data.identities.test} unseen identities, mean ± 95% CI over ` +
      `${e.episodes} episodes (${e.way}-way, Q_test = ${e.query}), K_train = 1. Every cell of a ` +
      "column is scored on the very same episodes.\n",
  );
  out.push(mainTable(r));
  out.push(`\n${summaryProse(r)}\n`);
  out.push(
    "For context, the paper's numbers on CelebA (a different generator, data set and " +
      "image size, so compare trends, not levels):\n",
  );
  out.push(PAPER_TABLE);
  out.push(
    "\nThe paper also quotes supervised ProtoNets at 75 % (5-way 5-shot) and LASIUM with " +
      "ProtoNets at about 61 %.\n",
  );

  out.push("## 1. K_test sweep (paper Fig. 5a)\n");
  out.push(accuracyTable(section("kTest").rows, e.shots));
  out.push(`\n${comparisonTable(r, section("kTest"))}\n`);
  out.push(figure(r, "fig-k-test.png"));
  out.push(`\n${kTestProse(r)}\n`);

  out.push("### 1b. Seed-to-seed spread of the method\n");
  out.push(accuracyTable(section("seeds").rows, e.shots, "training seed"));
  out.push(`\n${comparisonTable(r, section("seeds"))}\n`);
  out.push(`\n${seedsProse(r)}\n`);

  out.push("## 2. K_train sweep (paper Fig. 5b)\n");
  out.push(accuracyTable(section("kTrain").rows, e.shots, "style mixing"));
  out.push(`\n${comparisonTable(r, section("kTrain"))}\n`);
  out.push(figure(r, "fig-k-train.png"));
  out.push(`\n${kTrainProse(r)}\n`);

  out.push("## 3. Samplers and identity style inputs\n");
  out.push("### 3a. Samplers\n");
  out.push(accuracyTable(section("samplers").rows, e.shots, "sampler"));
  out.push(`\n${comparisonTable(r, section("samplers"))}\n`);
  out.push(figure(r, "fig-samplers.png"));
  out.push(`\n${samplerProse(r)}\n`);
  out.push(
    "One synthetic task per sampler (rows are classes; the supervised baseline's picture " +
      "shows one real training episode):\n",
  );
  out.push(taskFigures(r, "samplers"));
  out.push("\n### 3b. Identity style inputs\n");
  out.push(accuracyTable(section("layers").rows, e.shots, "identity inputs"));
  out.push(`\n${comparisonTable(r, section("layers"))}\n`);
  out.push(figure(r, "fig-layers.png"));
  out.push(`\n${layersProse(r)}\n`);
  out.push(figuresMatching(r, (file) => file.startsWith("style-mixing-")));
  out.push("\nOne synthetic task per identity-input choice (rows are classes):\n");
  out.push(taskFigures(r, "layers"));

  out.push("\n## 4. Baselines\n");
  out.push(
    "All baselines are scored on the same test episodes as the method. *Pixel prototypes*: " +
      "nearest class mean of the raw preprocessed pixels. *Random-init Conv-4*: the same network " +
      "and initialisation seed, never trained. *Supervised ProtoNet*: the same network, " +
      "optimiser, episode shape, budget and early stopping, trained on real episodes drawn from " +
      `${r.data.identities.train} labelled training identities that appear in neither ` +
      "validation nor test. Their numbers and paired differences are in the main table and " +
      `section 1.\n\n${baselinesProse(r)}\n`,
  );

  out.push("\n## 5. Meta-validation curves and early stopping (paper Fig. 4)\n");
  out.push(figure(r, "fig-validation.png"));
  out.push(`\n${validationProse(r)}\n`);
  out.push(validationTable(r));
  out.push(`\n${figure(r, "fig-validation-all.png")}\n`);

  out.push("## Statistics\n");
  out.push(
    `Each accuracy is the mean over ${e.episodes} test episodes of the share of correctly ` +
      "classified queries; its 95% CI is 1.96 standard deviations of the per-episode accuracy " +
      "divided by √episodes. Episodes are drawn with a fixed seed " +
      `(${e.seed}), so every method sees the same support and query photos: a comparison ` +
      "tests the per-episode differences (paired), whose CI is much narrower than either " +
      "accuracy's. A difference is *within noise* when its 95% CI contains zero; p is the " +
      "two-sided normal-approximation p-value. With many comparisons, about one in twenty " +
      "true-zero differences will still look significant at p < 0.05. These tests see " +
      "evaluation noise only: each variant is one trained network, and retraining it with " +
      "another seed moves its accuracy too. Section 1b measures that training noise on the " +
      "method; differences no larger than it are marked ‡ and are not treated as findings " +
      "(`--repeats` sets how many seeds). Batch norm is " +
      `${e.bn}. Validation (checkpoint choice) and test use disjoint identities.` +
      (e.episodes < 1000
        ? ` **Only ${e.episodes} test episodes per setting** (fewer than the 1000 this report ` +
          "is meant for): intervals are wide and most differences will read as noise."
        : "") +
      "\n",
  );

  out.push("## Runs\n");
  out.push(runsTable(r));
  out.push(
    `\nEvery run trains with seed ${r.settings.seed} (same network initialisation), except the ` +
      "method's repeats in section 1b; all are validated and tested on the same episodes. A " +
      "resumed run's wall time counts only its last session; the total wall " +
      "time counts each session up to its last update of this report.\n",
  );

  out.push("## Configuration\n");
  const ids = r.data.identities;
  out.push(
    `Data split (seeded, disjoint, in \`${r.data.splitFile}\`): ${ids.train} training ` +
      `identities (supervised baseline only), ${ids.validation} validation identities ` +
      `(checkpoint choice), ${ids.test} test identities. ` +
      `${r.data.warnings} images could not be decoded and were skipped.\n`,
  );
  out.push("```json\n" + compactJson(r.settings) + "\n```\n");
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}
