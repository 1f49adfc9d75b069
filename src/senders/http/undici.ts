import { createRequire } from 'node:module';

type Undici = typeof import('undici');

const require = createRequire(import.meta.url);
let loaded: Undici | undefined;

/**
 * The undici package, loaded the first time an HTTP exchange, a TLS pool or an alert webhook
 * needs it (about 30 MB of resident memory): an engine that sends nothing over HTTP never pays
 * for it. Synchronous (undici is CommonJS), so pools can still be made where they are asked for.
 */
export function undici(): Undici {
  loaded ??= require('undici') as Undici;
  return loaded;
}
