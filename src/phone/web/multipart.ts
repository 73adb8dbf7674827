/**
 * The phone page's upload form (multipart/form-data: one config file and a few text fields), read by the
 * platform's `Request.formData()` rather than a parser of our own. The body was already read with the web
 * server's size limit, so this sees bounded input.
 */

export interface Part {
  name: string;
  filename?: string;
  data: Buffer;
}

/** The form's fields in order, or undefined when the body is not a well-formed multipart form. */
export async function parseMultipart(body: Buffer, contentType: string): Promise<Part[] | undefined> {
  if (!/^multipart\/form-data\b/i.test(contentType.trim()) || !/\bboundary=/i.test(contentType)) return undefined;
  let form: FormData;
  try {
    // The URL is never fetched: a Request is only the platform's way to decode a body.
    form = await new Request('http://phone.invalid/upload', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
  } catch {
    return undefined;
  }
  const parts: Part[] = [];
  for (const [name, value] of form) {
    if (typeof value === 'string') parts.push({ name, data: Buffer.from(value, 'utf8') });
    else parts.push({ name, filename: value.name, data: Buffer.from(await value.arrayBuffer()) });
  }
  return parts;
}
