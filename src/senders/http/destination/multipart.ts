import { randomBytes } from 'node:crypto';
import type { PlannedFile } from '../../../protocols/http/request-plan.ts';

const CRLF = '\r\n';

/**
 * A name or file name inside a Content-Disposition quoted string. RFC 7578 §4.2 leaves the
 * escaping open; like the WHATWG multipart/form-data encoding (and browsers), `"` and line
 * breaks are percent-encoded, so the header line cannot be broken out of.
 */
function quoted(text: string): string {
  return `"${text.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22')}"`;
}

/**
 * A multipart/form-data body (RFC 7578): one part per field, in the order given; files with
 * their file name and content type, decoded from base64. The boundary is random, 24 hex digits
 * after a prefix no base64 or JSON text starts with.
 */
export function multipartBody(form: Readonly<Record<string, string | PlannedFile>>, boundary = `----conduit-${randomBytes(12).toString('hex')}`): {
  body: Uint8Array<ArrayBuffer>;
  contentType: string;
} {
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(form)) {
    let head = `--${boundary}${CRLF}Content-Disposition: form-data; name=${quoted(name)}`;
    let content: Buffer;
    if (typeof value === 'string') {
      head += CRLF;
      content = Buffer.from(value, 'utf8');
    } else {
      head += `; filename=${quoted(value.filename)}${CRLF}Content-Type: ${value.contentType.replace(/[\r\n]/g, '')}${CRLF}`;
      content = Buffer.from(value.base64, 'base64');
    }
    chunks.push(Buffer.from(head + CRLF, 'utf8'), content, Buffer.from(CRLF, 'utf8'));
  }
  chunks.push(Buffer.from(`--${boundary}--${CRLF}`, 'utf8'));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
