/** Scenario registry. */
import { SCENARIOS, bare } from './library.js';
import type { Scenario } from './toolkit.js';
import { hostileNames } from './hostile-names.js';

export type { Scenario, ScenarioContext, ClientHints, Machine } from './toolkit.js';
export { SCENARIOS, bare } from './library.js';
export * as toolkit from './toolkit.js';

/** Names of the shipped scenarios (not including the empty 'bare' machine). */
export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

/** Look a scenario up by name ('bare' included); undefined when unknown. */
export function getScenario(name: string): Scenario | undefined {
  if (name === bare.name) return bare;
  if (name === hostileNames.name) return hostileNames;
  return SCENARIOS.find((s) => s.name === name);
}
