import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { alertDefinitions } from './index.js';

const NUMBER_WORDS = [
  'Zero',
  'One',
  'Two',
  'Three',
  'Four',
  'Five',
  'Six',
  'Seven',
  'Eight',
  'Nine',
  'Ten',
  'Eleven',
  'Twelve',
];

it('the README counts and lists every alert', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const alerts = alertDefinitions();
  expect(readme).toContain(`${NUMBER_WORDS[alerts.length] ?? alerts.length} alerts, each defined once`);
  for (const alert of alerts) expect(readme, alert.name).toContain(`| \`${alert.name}\``);
});
