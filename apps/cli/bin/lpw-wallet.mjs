#!/usr/bin/env node
// `lpw-wallet`: runs the TypeScript entry point through tsx (the workspace ships sources, not builds).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
