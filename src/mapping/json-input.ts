import { InputError } from '../errors.ts';

/** Parses a JSON body; malformed JSON is an INPUT_INVALID_JSON (HTTP 400) naming the body. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError('INPUT_INVALID_JSON', [{ path: '(body)', code: 'invalid_json', message: `not valid JSON: ${(e as Error).message}` }]);
  }
}
