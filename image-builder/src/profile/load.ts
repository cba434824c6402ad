/**
 * Reads and validates a build profile file. Effects: reads the file.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../../../lib/errors.ts';
import { parseProfile } from './profile.ts';
import type { BuildProfile } from './profile.ts';

export async function loadProfileFile(file: string): Promise<BuildProfile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BerthError('PROFILE_INVALID', `Cannot read build profile ${file}: ${(error as Error).message}`, { cause: error });
  }
  return parseProfile(text, path.relative(process.cwd(), file) || file);
}
