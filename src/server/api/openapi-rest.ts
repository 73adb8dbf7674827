/**
 * The read endpoints' part of the OpenAPI document (rest.ts): events, phones, one phone, calls, refused
 * requests, and the schemas of what they answer with.
 */
import { VARIABLES } from '../../core/catalog.ts';
import { OUTCOMES } from './rest.ts';
import { before, error, group, json, limit, mac, macPath, nullableTime, query, ref, since, text, time, until } from './openapi-shapes.ts';

const PRESENCES = ['offline', 'unregistered', 'idle', 'ringing', 'dialing', 'talking', 'held', 'dnd'];

const format = query('format', 'csv or jsonl: the whole range as a streamed download instead of a page (limit is ignored)', { enum: ['json', 'csv', 'jsonl'] });
const downloads = {
  'text/csv': { schema: { type: 'string', description: 'A header line, then one line per row; cells starting with = + - @ get a leading \'' } },
  'application/x-ndjson': { schema: { type: 'string', description: 'One JSON object per line' } },
};

export function restPaths(secured: object[]) {
  return {
    '/api/v1/events': {
      get: {
        summary: 'Stored events, newest first',
        security: secured,
        parameters: [mac, group, query('incident', 'Incident slug', ref('Incident')), query('call_id', "The phone's $call_id"), since, until, limit, before, format],
        responses: {
          200: {
            description: 'A page of events (or, with format, all of them as a download)',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['events', 'next'],
                  properties: { events: { type: 'array', items: ref('Event') }, next: { type: ['integer', 'null'] } },
                },
              },
              ...downloads,
            },
          },
          400: error('A parameter is invalid'),
          401: error('Admin token missing or wrong'),
        },
      },
    },
    '/api/v1/phones': {
      get: {
        summary: 'Every phone that sent an event, by MAC, a page at a time, with a summary of its live state',
        description: 'Pass `next` back as `after` for the following page; `null` means there is no more. A phone\'s calls are at /api/v1/phones/{mac} and /api/v1/calls; the summary has the first open call and how many are open.',
        security: secured,
        parameters: [
          group,
          query('after', 'MAC: only phones after it (the `next` of the previous page)'),
          query('limit', 'Phones per page, 1 to 1000 (default 500)', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          200: json('Phones by MAC', {
            type: 'object',
            properties: {
              phones: { type: 'array', items: ref('PhoneSummary') },
              next: { type: ['string', 'null'], description: 'The last MAC of this page when more follow, else null' },
              total: { type: 'integer', description: 'Phones known to the receiver' },
            },
          }),
          400: error('Bad parameter'),
          401: error('Admin token missing or wrong'),
        },
      },
    },
    '/api/v1/phones/{mac}': {
      get: {
        summary: 'One phone, with its 20 most recent calls',
        security: secured,
        parameters: [macPath],
        responses: {
          200: json('The phone', {
            allOf: [ref('Phone'), { type: 'object', properties: { recent_calls: { type: 'array', items: ref('Call') } } }],
          }),
          400: error('Not a MAC address'),
          401: error('Admin token missing or wrong'),
          404: error('No such phone'),
        },
      },
    },
    '/api/v1/calls': {
      get: {
        summary: 'The call log, newest first',
        security: secured,
        parameters: [mac, group, query('outcome', 'Call outcome', { enum: OUTCOMES }), since, until, limit, before, format],
        responses: {
          200: {
            description: 'A page of calls (or, with format, all of them as a download, each with phone_name, location, groups and account)',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    calls: { type: 'array', items: { allOf: [ref('Call'), { type: 'object', properties: { id: { type: 'integer' } } }] } },
                    next: { type: ['integer', 'null'] },
                  },
                },
              },
              ...downloads,
            },
          },
          400: error('A parameter is invalid'),
          401: error('Admin token missing or wrong'),
        },
      },
    },
    '/api/v1/rejected': {
      get: {
        summary: 'Refused requests, newest first, with the reason',
        security: secured,
        parameters: [since, limit, before],
        responses: {
          200: json('A page of refused requests', {
            type: 'object',
            properties: { rejected: { type: 'array', items: ref('Rejected') }, next: { type: ['integer', 'null'] } },
          }),
          401: error('Admin token missing or wrong'),
        },
      },
    },
  };
}

export const restSchemas = {
  Event: {
    type: 'object',
    required: ['id', 'received_at', 'mac', 'incident', 'vars', 'source_ip'],
    properties: {
      id: { type: 'integer' },
      received_at: time,
      mac: { type: 'string', pattern: '^[0-9a-f]{12}$' },
      incident: ref('Incident'),
      vars: {
        type: 'object',
        description: 'Variables by canonical name (without $); empty when the phone sent nothing or a literal placeholder',
        properties: Object.fromEntries(VARIABLES.map((v) => [v.name, { type: 'string', description: v.description }])),
        additionalProperties: false,
      },
      extra: { type: 'object', description: 'Parameters that are not variables', additionalProperties: text },
      source_ip: text,
      raw: { type: 'string', description: 'The request target as received, token values blanked' },
    },
  },
  Call: {
    type: 'object',
    properties: {
      mac: text,
      call_id: text,
      direction: { enum: ['incoming', 'outgoing', 'unknown'] },
      remote: { type: 'string', description: '$remote as the phone sent it (often a SIP URI)' },
      number: { type: 'string', description: "The other party's number from `remote` (`2001` of `sip:2001@pbx`); '' when it holds none" },
      display_remote: text,
      local: text,
      phase: { enum: ['dialing', 'ringing', 'talking', 'held', 'ended'] },
      outcome: { enum: OUTCOMES },
      muted: { type: 'boolean' },
      started_at: time,
      answered_at: nullableTime,
      ended_at: nullableTime,
      ring_seconds: { type: ['number', 'null'] },
      talk_seconds: { type: ['number', 'null'] },
      ended_by: {
        type: ['string', 'null'],
        description: 'What ended the call: the incident slug, `timeout` (no event for too long), or `call_limit` (the phone had more than 8 open calls; the oldest unanswered one was closed)',
      },
    },
  },
  Phone: {
    type: 'object',
    properties: {
      mac: text,
      name: { type: 'string', description: "The administrator's name for it ('' when none)" },
      location: text,
      groups: { type: 'array', items: text },
      ip: text,
      model: text,
      firmware: text,
      presence: { enum: PRESENCES },
      registered: { type: ['boolean', 'null'] },
      accounts: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            id: text,
            registered: { type: ['boolean', 'null'] },
            failed: { type: 'boolean' },
            since: nullableTime,
            display_name: { type: 'string', description: "The account's $display_local, '' until a call carried one" },
          },
        },
      },
      dnd: { type: 'boolean' },
      forward: { type: 'object', properties: { always: { type: 'boolean' }, busy: { type: 'boolean' }, no_answer: { type: 'boolean' } } },
      muted: { type: 'boolean' },
      off_hook: { type: 'boolean' },
      busy: { type: 'boolean' },
      calls: { type: 'array', items: ref('Call') },
      first_seen: time,
      last_seen: time,
      last_event_id: { type: 'integer' },
    },
  },
  PhoneSummary: {
    type: 'object',
    description: 'A Phone without its `calls`, with `open_calls` (how many, at most 8) and `call` (the first open call, or null)',
    properties: {
      mac: text,
      presence: { enum: PRESENCES },
      open_calls: { type: 'integer', minimum: 0, maximum: 8 },
      call: { oneOf: [ref('Call'), { type: 'null' }] },
    },
    additionalProperties: true,
  },
  Rejected: {
    type: 'object',
    properties: {
      id: { type: 'integer' },
      received_at: time,
      source_ip: text,
      method: text,
      status: { type: 'integer' },
      reason: text,
      raw: text,
      count: { type: 'integer', description: 'How many refused requests this row stands for (more than 1: a summary of a flood)' },
    },
  },
};
