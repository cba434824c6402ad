#!/usr/bin/env node
// The `berth` command from a checkout: loads the TypeScript CLI through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../cli/src/main.ts');
