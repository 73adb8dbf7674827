/** Headless Chromium for the phone's page tests: a fresh profile per run, removed afterwards. */
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../chromium.ts';

export function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  return launchChromium({ acceptDownloads: true });
}
