/**
 * The reports part of the OpenAPI document (reports.ts): call figures per phone, account and group, and the
 * weekday × hour heat map.
 */
import { error, group, json, query, text, time } from './openapi-shapes.ts';
import { inventoryEntry } from './openapi-inventory.ts';

const reportParams = [
  query('from', 'Start: ISO 8601 time or a span back from now (rounded down to the hour; default to minus 7 days)'),
  query('to', 'End, exclusive: ISO 8601 time or a span back from now (rounded up to the hour; default now)'),
  group,
  query('sl', 'Service level threshold in seconds (default 20)', { enum: [5, 10, 15, 20, 30, 60] }),
];
const figures = {
  calls: { type: 'integer', description: 'Ended calls that started in the period, any direction' },
  calls_in: { type: 'integer' },
  calls_out: { type: 'integer' },
  answered_in: { type: 'integer', description: 'Incoming calls whose outcome is answered or transferred' },
  answered_out: { type: 'integer', description: 'Outgoing calls the far end answered (outcome answered or transferred)' },
  missed: { type: 'integer' },
  rejected: { type: 'integer' },
  forwarded: { type: 'integer' },
  answer_rate: { type: ['number', 'null'], description: 'answered_in / calls_in' },
  average_ring_seconds: { type: ['number', 'null'], description: 'Start to answer, over answered incoming calls' },
  service_level: { type: ['number', 'null'], description: 'Share of incoming calls answered within `sl` seconds' },
  talk_seconds: { type: 'number', description: 'Answer to end, over answered calls of both directions' },
};
const reportEnvelope = {
  from: time,
  to: time,
  group: { type: ['string', 'null'] },
  service_level_seconds: { type: 'integer' },
};
const report = (key: string, item: object) =>
  json('The report', { type: 'object', properties: { ...reportEnvelope, [key]: { type: 'array', items: item } } });
const REPORT_ERRORS = { 400: error('A parameter is invalid'), 401: error('Admin token missing or wrong') };

export function reportPaths(secured: object[]) {
  return {
    '/api/v1/reports/phones': {
      get: {
        summary: 'Call figures per phone for a period',
        security: secured,
        parameters: reportParams,
        responses: { 200: report('phones', { type: 'object', properties: { ...inventoryEntry.properties, ...figures } }), ...REPORT_ERRORS },
      },
    },
    '/api/v1/reports/accounts': {
      get: {
        summary: 'Call figures per account (user@host of the call\'s local party), with the extension (its user part)',
        security: secured,
        parameters: reportParams,
        responses: {
          200: report('accounts', {
            type: 'object',
            properties: { account: text, extension: text, display_name: text, phones: { type: 'array', items: text }, ...figures },
          }),
          ...REPORT_ERRORS,
        },
      },
    },
    '/api/v1/reports/groups': {
      get: {
        summary: 'Call figures per inventory group (a phone in two groups counts in both)',
        security: secured,
        parameters: reportParams,
        responses: { 200: report('groups', { type: 'object', properties: { group: text, phones: { type: 'integer' }, ...figures } }), ...REPORT_ERRORS },
      },
    },
    '/api/v1/reports/heatmap': {
      get: {
        summary: 'Calls per local weekday × hour (7 × 24 cells, Monday 00:00 first)',
        security: secured,
        parameters: [...reportParams, query('tz', 'IANA time zone (default UTC)')],
        responses: {
          200: json('The heat map', {
            type: 'object',
            properties: {
              ...reportEnvelope,
              tz: text,
              weekdays: { type: 'array', items: text },
              cells: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { weekday: { type: 'integer' }, hour: { type: 'integer' }, calls: { type: 'integer' }, answered: { type: 'integer' }, missed: { type: 'integer' } },
                },
              },
            },
          }),
          ...REPORT_ERRORS,
        },
      },
    },
  };
}
