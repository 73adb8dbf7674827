/**
 * The one definition of an answered call, for the call log's outcome, the reports and every figure derived
 * from them: a call counts as answered when it was answered and its outcome says it stayed so — `answered`,
 * or `transferred` (answered, then handed on). A call answered and then lost (its transfer failed and it was
 * not resumed) ends `failed`, and is not counted as answered anywhere, its ring and talk time included.
 */
import type { CallOutcome, CallState } from './types.ts';

export const ANSWERED_OUTCOMES: readonly CallOutcome[] = ['answered', 'transferred'];

export function countsAsAnswered(call: Pick<CallState, 'answeredAt' | 'outcome'>): boolean {
  return call.answeredAt !== null && ANSWERED_OUTCOMES.includes(call.outcome);
}
