#!/usr/bin/env node
// The `gameday` command: TypeScript sources run directly through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
