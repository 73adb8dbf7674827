/**
 * The remote-control part of the OpenAPI document: control settings per phone, commands, their outcome.
 */
import { CONTROL_COMMANDS } from '../../core/control/index.ts';
import { VENDOR_IDS } from '../../core/vendors/index.ts';
import { error, json, jsonBody, macPath, nullableText, nullableTime, ref, text } from './openapi-shapes.ts';

export function controlPaths(secured: object[]) {
  return {
    '/api/v1/phones/{mac}/control': {
      get: {
        summary: 'How the receiver reaches this phone for remote control (credentials are never returned)',
        security: secured,
        parameters: [macPath],
        responses: { 200: json('The settings and what a command would use now', ref('ControlSettings')), 400: error('Not a MAC address') },
      },
      put: {
        summary: 'Set the phone\'s control address, vendor and web admin credentials',
        description: 'Every field is optional; null or "" resets `url` (no approved address: commands fail) or `vendor` (to the one its events show). `url` is the only address commands go to; it must be in serve --control-networks (link-local and cloud metadata addresses never). `username` with `password` replaces the credentials, which are stored sealed (AES-256-GCM) and never returned; `"username": null` removes them.',
        security: secured,
        parameters: [macPath],
        requestBody: jsonBody({
          url: { ...nullableText, description: 'Base URL of the phone\'s web server, e.g. http://10.0.0.42' },
          vendor: { type: ['string', 'null'], enum: [...VENDOR_IDS, null] },
          username: nullableText,
          password: text,
        }),
        responses: { 200: json('Saved', ref('ControlSettings')), 400: error('A field is not usable (the reason says which)') },
      },
      delete: { summary: 'Forget the phone\'s control settings', security: secured, parameters: [macPath], responses: { 204: { description: 'Removed' } } },
    },
    '/api/v1/phones/{mac}/control/confirm': {
      post: {
        summary: 'Approve an address the phone reports now as its control address (after it moved, or when it has none)',
        description: 'The address must be the `$ip` or the source address of the phone\'s latest event; the scheme, port and path of the old address are kept.',
        security: secured,
        parameters: [macPath],
        requestBody: jsonBody({ address: text }, { required: ['address'] }),
        responses: {
          200: json('Approved', ref('ControlSettings')),
          400: error('Not an address the receiver may control'),
          409: error('The phone does not report this address now'),
        },
      },
    },
    '/api/v1/phones/{mac}/commands': {
      post: {
        summary: 'Tell the phone to do something; confirmed when its own Action URL reports the effect',
        security: secured,
        parameters: [macPath],
        requestBody: jsonBody(
          {
            command: { enum: CONTROL_COMMANDS },
            number: { type: 'string', pattern: '^[0-9A-Za-z*#+._@-]{1,64}$', description: 'dial only' },
            keys: { description: 'keys only: key names as the phone\'s vendor spells them', oneOf: [{ type: 'string' }, { type: 'array', items: text, maxItems: 32 }] },
          },
          { required: ['command'] },
        ),
        responses: {
          202: json('Started: follow it at GET /api/v1/commands/{id} (status `sent`, or `failed` when nothing could be sent)', ref('Command')),
          400: error('Not a command request'),
          404: error('The receiver knows nothing about this phone'),
          429: error('Too many commands to this phone are waiting for confirmation'),
        },
      },
      get: {
        summary: 'The phone\'s newest commands, newest first',
        security: secured,
        parameters: [macPath, { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
        responses: { 200: json('Commands', { type: 'object', properties: { commands: { type: 'array', items: ref('Command') } } }) },
      },
    },
    '/api/v1/commands/{id}': {
      get: {
        summary: 'Where a command stands: sent, accepted (the phone took it), confirmed (its Action URL reported the effect) or failed (with the reason)',
        description: 'Commands are kept in the store: any receiver sharing the database answers for any command, also after a restart. A command whose receiver stopped before it concluded is failed with a reason that says so.',
        security: secured,
        parameters: [
          { name: 'id', in: 'path', required: true, schema: text },
          { name: 'wait', in: 'query', required: false, description: 'Answer once the command is final, or after this many seconds (0..20)', schema: { type: 'number', minimum: 0, maximum: 20 } },
        ],
        responses: { 200: json('The command', ref('Command')), 400: error('Bad wait'), 404: error('No such command (commands are kept for the --retention period, the newest 100,000 at most)') },
      },
    },
  };
}

export const controlSchemas = {
  ControlSettings: {
    type: 'object',
    properties: {
      mac: text,
      url: nullableText,
      vendor: nullableText,
      credentials: { enum: ['set', 'default', 'none', 'unreadable'], description: 'Which credentials a command uses: this phone\'s own, the fleet default (serve --phone-user), none, or stored ones this receiver\'s key cannot open' },
      effective: { type: 'object', properties: { url: nullableText, vendor: nullableText, problem: text } },
      reported: {
        type: ['object', 'null'],
        description: 'Where the phone\'s latest event says it is: its $ip and the source address of the request',
        properties: { ip: nullableText, source: nullableText },
      },
      moved: {
        type: ['object', 'null'],
        description: 'The approved address and the one the phone seems to have moved to: its commands fail until the admin confirms',
        properties: { from: text, to: text },
      },
      updated_at: nullableTime,
    },
  },
  Command: {
    type: 'object',
    required: ['id', 'mac', 'command', 'status'],
    properties: {
      id: text,
      mac: text,
      command: { enum: CONTROL_COMMANDS },
      number: text,
      keys: { type: 'array', items: text },
      vendor: nullableText,
      status: { enum: ['sent', 'accepted', 'confirmed', 'failed'] },
      reason: { ...nullableText, description: 'Why it failed: what the phone said and what to change' },
      created_at: nullableTime,
      accepted_at: nullableTime,
      finished_at: nullableTime,
      confirmed_by: { type: ['object', 'null'], properties: { event_id: { type: 'integer' }, incident: ref('Incident') } },
    },
  },
};
