#!/usr/bin/env node
// The `simchain` command. It runs the TypeScript sources through tsx, so a fresh clone
// works after `npm ci` with no build step, and what runs is always what is checked in.
import { register } from 'tsx/esm/api';

register();
await import('./simchain.ts');
