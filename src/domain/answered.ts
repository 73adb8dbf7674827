/**
 * The one definition of an answered call, for the call log's outcome, the reports and every figure derived
 * from them: a call counts as answered when it was answered (`answeredAt` set) and its outcome says it stayed
 * so — `answered`, or `transferred` (answered, then handed on). A call answered and then lost (its transfer
 * failed and it was not resumed) ends `failed`, and is not counted as answered anywhere, its ring and talk
 * time included. The call summaries apply it in SQL (store/call-stats.ts).
 */
import type { CallOutcome } from './types.ts';

export const ANSWERED_OUTCOMES: readonly CallOutcome[] = ['answered', 'transferred'];
