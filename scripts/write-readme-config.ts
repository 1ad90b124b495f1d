/**
 * Refreshes the configuration table in README.md from the schema, between
 * the two marker comments. A test fails when the README's table is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withConfigTable } from '../src/config/env-docs';

const target = join(__dirname, '..', 'README.md');
writeFileSync(target, withConfigTable(readFileSync(target, 'utf8')));
process.stdout.write(`updated the configuration table in ${target}\n`);
