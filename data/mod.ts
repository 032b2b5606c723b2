/**
 * Real face data: decoding, on-disk layouts, preprocessing, the lazily loaded
 * `FaceDataset`, identity splits, seeded evaluation episodes and PNG output.
 */
export * from "./decode.ts";
export * from "./layouts.ts";
export * from "./preprocess.ts";
export * from "./dataset.ts";
export * from "./splits.ts";
export * from "./episodes.ts";
export * from "./png.ts";
export * from "./random.ts";
export * from "./safetensors.ts";
export { type Color, niceStep, parseColor, type PlotMarker, renderLinePlot } from "./plot.ts";
