/**
 * `berth analyze boot`: reads a captured console or a host's init.log, writes the boot
 * timeline as SVG. Effects: reads one file, writes one file (or returns the SVG for stdout).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { BerthError } from '../../../lib/errors.ts';
import { renderBootSvg } from './core/boot-svg.ts';
import { parseBootConsole, summarizeTimeline, type BootTimeline } from './core/boot-timeline.ts';

export interface AnalyzeBootRequest {
  input: string;
  out?: string;
  firmwareMs?: number;
  boot?: number;
  title?: string;
  axisEndMs?: number;
}

export interface AnalyzeBootResult {
  timeline: BootTimeline;
  svg: string;
  /** The rows as text, for the terminal. */
  summary: string;
}

/** Reads `input`, builds its timeline and SVG, writes the SVG to `out` when given. */
export async function analyzeBoot(request: AnalyzeBootRequest): Promise<AnalyzeBootResult> {
  let text: string;
  try {
    text = await readFile(request.input, 'utf8');
  } catch (error) {
    throw new BerthError('ANALYZE_INPUT_UNREADABLE', `Cannot read console log ${request.input}: ${(error as Error).message}`, { cause: error });
  }
  const timeline = parseBootConsole(text, {
    ...(request.firmwareMs === undefined ? {} : { firmwareMs: request.firmwareMs }),
    ...(request.boot === undefined ? {} : { boot: request.boot }),
  });
  const svg = renderBootSvg(timeline, {
    ...(request.title === undefined ? {} : { title: request.title }),
    ...(request.axisEndMs === undefined ? {} : { axisEndMs: request.axisEndMs }),
  });
  if (request.out !== undefined) await writeFile(request.out, svg);
  return { timeline, svg, summary: summarizeTimeline(timeline) };
}
