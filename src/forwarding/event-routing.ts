/**
 * Which destinations an incident or a conclusion goes to: the switched-on ones whose selection (events,
 * phones) takes it. Asked for every event the commit queue stores, so the common case (every destination
 * takes every incident of every phone) is answered from one list made when the destinations change.
 */
import type { NewDelivery, NewEvent } from '../store/types.ts';
import type { Conclusion } from './conclusions.ts';
import { selects, type EventSelector } from './destinations.ts';
import { conclusionBody } from './payloads.ts';

export interface RoutedDestination {
  readonly name: string;
  readonly select: EventSelector;
}

export class EventRouting {
  private enabled: readonly RoutedDestination[] = [];
  /** route()'s answer when every destination takes every incident of every phone. */
  private everyIncident: readonly string[] | undefined = [];
  /** Some switched-on destination takes conclusions: they are worth deriving. */
  wantsConclusions = false;

  /** The switched-on destinations, in the order their deliveries are written. */
  refresh(enabled: readonly RoutedDestination[]): void {
    this.enabled = enabled;
    const plain = enabled.every((d) => d.select.allIncidents && !d.select.macs && !d.select.macPatterns);
    this.everyIncident = plain ? enabled.map((d) => d.name) : undefined;
    this.wantsConclusions = enabled.some((d) => d.select.allConclusions || d.select.types.size > 0);
  }

  /** The destinations an incident goes to (its delivery rows are written with it). */
  route(event: Pick<NewEvent, 'incident' | 'mac'>): readonly string[] {
    if (this.everyIncident) return this.everyIncident;
    const type = `phone.${event.incident}`;
    const out: string[] = [];
    for (const d of this.enabled) if (selects(d.select, type, event.mac)) out.push(d.name);
    return out;
  }

  /** A delivery row per conclusion and destination taking it; the dedupe key stores each once however often it is derived. */
  conclusionRows(conclusions: readonly Conclusion[]): NewDelivery[] {
    const rows: NewDelivery[] = [];
    for (const c of conclusions) {
      const body = conclusionBody(c.type, c.at, c.data);
      for (const d of this.enabled) {
        if (!selects(d.select, c.type, c.mac)) continue;
        rows.push({ destination: d.name, type: c.type, mac: c.mac, eventId: c.eventId, createdAt: c.at, body, dedupeKey: `${c.mac}:${c.key}` });
      }
    }
    return rows;
  }
}
