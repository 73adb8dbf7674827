/** The virtual phone's call engine: pure functions from actions to incidents. */
export { step, advance, nextDeadline } from './step.ts';
export { initialState, DEFAULT_NO_ANSWER_MS, type InitialStateOptions } from './state.ts';
export { parseStep, ACTION_NAMES, ACTION_ARGUMENTS, type ScenarioStep } from './actions.ts';
export type * from './types.ts';
export { FORWARD_KINDS } from './types.ts';
