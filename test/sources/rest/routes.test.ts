/** SourceRoutes: exact paths first, then the longest matching prefix. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { type RawHandler, SourceRoutes } from '../../../src/http/routes.ts';

const req = (url: string) => ({ url }) as IncomingMessage;
const handler = (): RawHandler => () => {};

test('an exact path matches with or without a query, and only itself', () => {
  const r = new SourceRoutes();
  const h = handler();
  r.add('/channels/a', h);
  assert.equal(r.match(req('/channels/a')), h);
  assert.equal(r.match(req('/channels/a?x=1')), h);
  assert.equal(r.match(req('/channels/a/')), undefined);
  assert.equal(r.match(req('/channels/ab')), undefined);
});

test('a prefix matches the paths under it, not itself without a rest; exact paths win', () => {
  const r = new SourceRoutes();
  const post = handler();
  const get = handler();
  const nested = handler();
  const exactUnder = handler();
  r.add('/channels/a/submissions', post);
  r.addPrefix('/channels/a/submissions/', get);
  r.addPrefix('/channels/a/submissions/x/', nested);
  r.add('/channels/a/submissions/special', exactUnder);
  assert.equal(r.match(req('/channels/a/submissions')), post);
  assert.equal(r.match(req('/channels/a/submissions/01J?poll=1')), get);
  assert.equal(r.match(req('/channels/a/submissions/')), undefined);
  assert.equal(r.match(req('/channels/a/submissions/x/1')), nested, 'the longest prefix wins');
  assert.equal(r.match(req('/channels/a/submissions/special')), exactUnder);
  assert.equal(r.match(req('/channels/a/submissionsX/1')), undefined);
});

test('a prefix must end in /, cannot be served twice, and remove() stops it', () => {
  const r = new SourceRoutes();
  assert.throws(() => r.addPrefix('/p', handler()), /must end in \//);
  r.addPrefix('/p/', handler());
  assert.throws(() => r.addPrefix('/p/', handler()), /already served/);
  r.remove('/p/');
  assert.equal(r.match(req('/p/1')), undefined);
  r.addPrefix('/p/', handler());
});
