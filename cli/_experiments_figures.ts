/**
 * The plots of an experiments run, drawn from its results: accuracy against
 * K_test per method, sampler and identity-input choice (with 95% CIs),
 * accuracy against K_train, and the validation curves with the checkpoint
 * and early-stopping points marked.
 */
import { type LineSeries, writeLinePlotPng } from "../data/png.ts";
import type { PlotMarker } from "../data/plot.ts";
import {
  atShot,
  type ExperimentResults,
  type ExperimentTable,
  type MethodRow,
} from "./_experiments_results.ts";

/** A written figure: file name inside the run directory and its caption. */
export interface Figure {
  file: string;
  caption: string;
}

function short(label: string): string {
  return label.split(" (")[0];
}

/** One series per row against K_test; points nudged apart so CIs do not overlap. */
function seriesByShot(rows: readonly MethodRow[], shots: readonly number[]): LineSeries[] {
  const known = rows.filter((row) => row.test);
  return known.map((row, i) => {
    const nudge = (i - (known.length - 1) / 2) * 0.05;
    return {
      name: short(row.label),
      xs: shots.map((k) => k + nudge),
      ys: shots.map((k) => 100 * (atShot(row, k)?.mean ?? NaN)),
      errors: shots.map((k) => 100 * (atShot(row, k)?.ci95 ?? 0)),
    };
  });
}

async function plotTable(
  dir: string,
  file: string,
  t: ExperimentTable | undefined,
  shots: readonly number[],
  title: string,
): Promise<boolean> {
  const series = t ? seriesByShot(t.rows, shots) : [];
  if (series.length === 0) return false;
  await writeLinePlotPng(`${dir}/${file}`, series, {
    title,
    xLabel: "K_test (support photos per person)",
    yLabel: "test accuracy %",
    width: 720,
  });
  return true;
}

/** Writes every plot the results allow (finished runs only); returns them with captions. */
export async function writePlots(dir: string, r: ExperimentResults): Promise<Figure[]> {
  const shots = r.evaluation.shots;
  const table = (id: string) => r.experiments.find((t) => t.id === id);
  const w = r.evaluation.way;
  const figures: Figure[] = [];
  const ci = "error bars: 95% CI";
  if (await plotTable(dir, "fig-k-test.png", table("kTest"), shots, `${w}-WAY ACCURACY`)) {
    figures.push({
      file: "fig-k-test.png",
      caption: `Test accuracy against K_test, K_train = 1 (like Fig. 5a; ${ci})`,
    });
  }
  if (await plotTable(dir, "fig-samplers.png", table("samplers"), shots, "TASK SAMPLERS")) {
    figures.push({ file: "fig-samplers.png", caption: `Samplers against K_test (${ci})` });
  }
  if (await plotTable(dir, "fig-layers.png", table("layers"), shots, "IDENTITY STYLE INPUTS")) {
    figures.push({ file: "fig-layers.png", caption: `Identity inputs against K_test (${ci})` });
  }

  const kTrain = (table("kTrain")?.rows ?? []).filter((row) => row.test);
  if (kTrain.length > 0) {
    const ks = kTrain.map((row) => r.runs.find((x) => x.name === row.id)!.kTrain);
    const series: LineSeries[] = shots.map((k) => ({
      name: `K_test = ${k}`,
      xs: ks,
      ys: kTrain.map((row) => 100 * (atShot(row, k)?.mean ?? NaN)),
      errors: kTrain.map((row) => 100 * (atShot(row, k)?.ci95 ?? 0)),
    }));
    await writeLinePlotPng(`${dir}/fig-k-train.png`, series, {
      title: "K_TRAIN SWEEP",
      xLabel: "K_train (synthetic support images per class)",
      yLabel: "test accuracy %",
      width: 720,
    });
    figures.push({
      file: "fig-k-train.png",
      caption: `Test accuracy against K_train (like Fig. 5b; ${ci})`,
    });
  }

  const v = r.validation;
  if (v && v.curves.length > 0) {
    const curveShots = [...new Set(v.curves.map((c) => c.shot))].sort((a, b) => a - b);
    const series: LineSeries[] = curveShots.map((k) => {
      const pts = v.curves.filter((c) => c.shot === k);
      return {
        name: `val. K = ${k}`,
        xs: pts.map((c) => c.episode),
        ys: pts.map((c) => 100 * c.mean),
        errors: pts.map((c) => 100 * c.ci95),
      };
    });
    const markers: PlotMarker[] = [{ x: v.bestEpisode, label: "CHECKPOINT", color: "#2ca02c" }];
    if (v.stoppedEarly) markers.push({ x: v.lastEpisode, label: "EARLY STOP", color: "#d62728" });
    await writeLinePlotPng(`${dir}/fig-validation.png`, series, {
      title: "META-VALIDATION, STYLE MIXING, K_TRAIN = 1",
      xLabel: "training episodes",
      yLabel: "validation accuracy %",
      width: 720,
      markers,
    });
    figures.push({
      file: "fig-validation.png",
      caption: "Validation accuracy against training episodes for each K (like Fig. 4); the " +
        "checkpoint is chosen on K = " + `${v.valShot} (${ci})`,
    });
  }

  const histories = r.runs.filter((x) => x.history && x.history.length > 0);
  if (histories.length > 0) {
    await writeLinePlotPng(
      `${dir}/fig-validation-all.png`,
      histories.map((x) => ({
        name: x.name,
        xs: x.history!.map((h) => h.episode),
        ys: x.history!.map((h) => 100 * h.mean),
      })),
      {
        title: `VALIDATION, ${w}-WAY ${r.evaluation.valShot}-SHOT, EVERY RUN`,
        xLabel: "training episodes",
        yLabel: "validation accuracy %",
        width: 760,
      },
    );
    figures.push({
      file: "fig-validation-all.png",
      caption: `Validation accuracy (K = ${r.evaluation.valShot}) of every run`,
    });
  }
  return figures;
}
