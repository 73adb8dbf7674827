/**
 * The inventory part of the OpenAPI document (inventory-routes.ts): a phone's name, location and groups,
 * forgetting a phone, and the whole inventory as JSON or CSV.
 */
import { error, json, jsonBody, macPath, query, ref, text } from './openapi-shapes.ts';

/** One phone's inventory entry, as the inventory lists it (the per-phone report carries the same fields). */
export const inventoryEntry = {
  type: 'object',
  properties: { mac: text, name: text, location: text, groups: { type: 'array', items: text } },
};

export function inventoryPaths(secured: object[]) {
  return {
    '/api/v1/phones/{mac}': {
      patch: {
        summary: "Set a phone's name, location and groups (fields left out keep their value); the phone need not have sent an event yet",
        security: secured,
        parameters: [macPath],
        requestBody: jsonBody({
          name: { type: 'string', maxLength: 100 },
          location: { type: 'string', maxLength: 100 },
          groups: { type: 'array', maxItems: 20, items: { type: 'string', maxLength: 50 } },
        }),
        responses: {
          200: json('The phone (or, for a phone not heard yet, its inventory entry)', ref('Phone')),
          400: error('Not JSON, an unknown field, or a value too long or with control characters'),
          401: error('Admin token missing or wrong'),
          403: error('Sent by a browser from another site'),
          503: error('PostgreSQL is unreachable, or still moving in what its local journal held: nothing was changed; try again'),
        },
      },
      delete: {
        summary: 'Forget a phone: it leaves the board, the state and the inventory; its next event starts it anew',
        security: secured,
        parameters: [
          { name: 'mac', in: 'path', required: true, description: 'Any MAC spelling', schema: text },
          query('purge', 'events: also delete its events and calls (and so its share of the reports)', { enum: ['events'] }),
        ],
        responses: {
          200: json('Forgotten', { type: 'object', properties: { forgotten: text, events_purged: { type: 'boolean' } } }),
          400: error('Not a MAC address, or purge is not "events"'),
          401: error('Admin token missing or wrong'),
          403: error('Sent by a browser from another site'),
          404: error('No such phone'),
          503: error('PostgreSQL is unreachable, or still moving in what its local journal held: nothing was forgotten; try again'),
        },
      },
    },
    '/api/v1/inventory': {
      get: {
        summary: 'The phone inventory (names, locations, groups) and the group names in use',
        security: secured,
        parameters: [query('format', 'csv: a download with the columns mac,name,location,groups', { enum: ['json', 'csv'] })],
        responses: {
          200: {
            description: 'The inventory',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { inventory: { type: 'array', items: inventoryEntry }, groups: { type: 'array', items: text } } },
              },
              'text/csv': { schema: text },
            },
          },
          401: error('Admin token missing or wrong'),
        },
      },
      post: {
        summary: 'Import inventory CSV: the phones listed get the values in the file; others keep theirs',
        description:
          'Columns by the header line (mac,name,location,groups in any order; mac required; a missing column keeps the stored value), or without one in that order. MACs in any spelling; groups separated by `;`. An optional control_url column approves each phone\'s remote-control address (checked as PUT /api/v1/phones/{mac}/control checks it; an empty cell changes nothing). A file with any bad line imports nothing.',
        security: secured,
        requestBody: { required: true, content: { 'text/csv': { schema: text } } },
        responses: {
          200: json('Imported', { type: 'object', properties: { imported: { type: 'integer' }, control_urls: { type: 'integer', description: 'Control addresses set (only when the file had any)' } } }),
          400: json('Nothing imported', { type: 'object', properties: { error: text, problems: { type: 'array', items: text } } }),
          401: error('Admin token missing or wrong'),
          403: error('Sent by a browser from another site'),
          503: error('PostgreSQL is unreachable, or still moving in what its local journal held: nothing was imported; try again'),
        },
      },
    },
  };
}
