export { runFleet, DEFAULT_CALLS_PER_HOUR, type FleetOptions, type FleetSummary, type FleetProgress, type FleetRequest } from './run.ts';
export { FleetSim, type SimOptions } from './sim.ts';
export { Rng } from './prng.ts';
