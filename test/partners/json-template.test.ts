/**
 * The `json-template` outbound mapping kind: templates, steps, per-observation requests and
 * the checks made when the mapping file is loaded.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { LabReport } from '../../src/canonical/report.ts';
import { loadConfiguration } from '../../src/config/load.ts';
import { createJsonTemplateEncoder, JsonTemplateSettings } from '../../src/encoders/json-template/kind.ts';
import { mapPlatformEvent } from '../../src/mapping/platform-result/map.ts';
import { PlatformResultSettings } from '../../src/mapping/platform-result/settings.ts';
import { type PlannedRequest, REQUEST_PLAN_CONTENT_TYPE } from '../../src/protocols/http/request-plan.ts';
import { fixture, sample } from './support.ts';

const PLATFORM = PlatformResultSettings.parse({ patientIdSystem: 'CATENIX', externalIdSystem: 'MRN', statuses: { final: 'final', preliminary: 'preliminary', corrected: 'corrected' } });

function report(event: unknown): LabReport {
  return mapPlatformEvent(event, PLATFORM).report;
}

async function encode(settings: unknown, r: LabReport = report(sample('full-bmp-panel'))): Promise<PlannedRequest[]> {
  const parsed = JsonTemplateSettings.safeParse(settings);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
  const out = await createJsonTemplateEncoder('t', parsed.data).encode(r, { controlId: 'CTRL-1', createdAt: '2026-11-20T08:00:00Z' });
  assert.equal(out.contentType, REQUEST_PLAN_CONTENT_TYPE);
  return JSON.parse(out.payload) as PlannedRequest[];
}

function issues(settings: unknown): string[] {
  const parsed = JsonTemplateSettings.safeParse(settings);
  assert.ok(!parsed.success, 'expected the settings to be refused');
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('json-template: bodies', () => {
  test("'=' leaves are JSONata over { report }, others literal; a leaf that gives nothing is left out", async () => {
    const [r] = await encode({
      path: '/results',
      body: {
        resultId: '=report.id',
        source: 'catenix',
        count: '=$count(report.observations)',
        flag: true,
        literalEquals: '="=A"',
        missing: '=report.nothing',
        patient: { family: '=report.patient.family', given: '=report.patient.given', system: 'MRN' },
        absent: { field: '=report.nothing', system: 'kept only with a value' },
        list: ['=report.id', '=report.nothing', 'x'],
      },
    });
    assert.deepEqual(r!.body, {
      resultId: 'res_8F2C41',
      source: 'catenix',
      count: 3,
      flag: true,
      literalEquals: '=A',
      patient: { family: 'Nguyen', given: ['Thi', 'Mai'], system: 'MRN' },
      list: ['res_8F2C41', 'x'],
    });
    assert.deepEqual({ step: r!.step, method: r!.method, path: r!.path }, { step: 'request', method: 'POST', path: '/results' });
  });

  test('$controlId and $createdAt are bound; headers and the path may be expressions', async () => {
    const [r] = await encode({
      method: 'PUT',
      path: '="/results/" & $encodeUrlComponent(report.id)',
      headers: { 'X-Request-Id': '=$controlId', 'X-Tenant': 'north' },
      body: { at: '=$createdAt' },
    });
    assert.equal(r!.method, 'PUT');
    assert.equal(r!.path, '/results/res_8F2C41');
    assert.deepEqual(r!.headers, { 'X-Request-Id': 'CTRL-1', 'X-Tenant': 'north' });
    assert.deepEqual(r!.body, { at: '2026-11-20T08:00:00Z' });
  });

  test('perObservation makes one request per observation, with observation and $index bound; when filters', async () => {
    const plan = await encode({
      steps: [
        {
          name: 'obs',
          perObservation: true,
          when: "observation.code.code != 'K'",
          path: '="/observations/" & observation.code.code',
          body: { value: '=observation.value', index: '=$index', flags: '=[observation.flags]' },
        },
      ],
    });
    assert.deepEqual(
      plan.map((r) => [r.path, r.body]),
      [
        ['/observations/GLU', { value: '5.4', index: 0, flags: [] }],
        ['/observations/HBA1C', { value: '>14.0', index: 2, flags: ['HH'] }],
      ],
    );
  });

  test('a step whose when does not hold is left out; none left is an empty plan with a warning', async () => {
    const parsed = JsonTemplateSettings.parse({ steps: [{ when: 'report.correction', path: '/x' }] });
    const out = await createJsonTemplateEncoder('t', parsed).encode(report(sample('full-bmp-panel')), { controlId: 'C', createdAt: '2026-11-20T08:00:00Z' });
    assert.equal(out.payload, '[]');
    assert.match(out.warnings?.[0] ?? '', /every step was skipped/);
  });

  test('a form carries files decoded by the destination; a file the report lacks is left out', async () => {
    const [withPdf] = await encode({
      path: '/upload',
      form: {
        note: '=report.id',
        file: { base64: "=report.attachments[contentType='application/pdf'][0].dataBase64", filename: '="r-" & report.id & ".pdf"', contentType: 'application/pdf' },
      },
    });
    assert.equal((withPdf!.form!['file'] as { filename: string }).filename, 'r-res_8F2C41.pdf');
    assert.equal(withPdf!.form!['note'], 'res_8F2C41');
    const [without] = await encode(
      { path: '/upload', form: { file: { base64: '=report.attachments[0].dataBase64', filename: 'r.pdf', contentType: 'application/pdf' } } },
      report(sample('compact-glucose')),
    );
    assert.deepEqual(without!.form, {});
  });

  test('settings.tables serve $lookup', async () => {
    const [r] = await encode({
      path: '/x',
      tables: { results: { '5.4': { result: 'normal' } } },
      body: { result: "=$lookup('results', report.observations[0].value, 'result')" },
    });
    assert.deepEqual(r!.body, { result: 'normal' });
  });

  test('steps keep saveAs and skipIfSaved for the destination, and {{placeholders}} as written', async () => {
    const plan = await encode({
      steps: [
        { name: 'find', method: 'GET', path: '="/patients?mrn=" & report.patient.identifiers[type="MR"].value', saveAs: { patientId: '=data[0].id' } },
        { name: 'create', skipIfSaved: 'patientId', path: '/patients', body: { name: '=report.patient.family' }, saveAs: { patientId: 'id' } },
        { name: 'test', path: '/patients/{{patientId}}/tests', body: { patient: '{{patientId}}', result: '=report.id' } },
      ],
    });
    assert.deepEqual(plan[0]!.saveAs, { patientId: 'data[0].id' });
    assert.deepEqual(plan[1]!.skipIfSaved, ['patientId']);
    assert.equal(plan[2]!.path, '/patients/{{patientId}}/tests');
    assert.deepEqual(plan[2]!.body, { patient: '{{patientId}}', result: 'res_8F2C41' });
  });

  test('an expression that fails at encode time names the field of the mapping', async () => {
    const parsed = JsonTemplateSettings.parse({ path: '/x', body: { n: '=$number(report.observations[2].value)' } });
    await assert.rejects(
      async () => createJsonTemplateEncoder('t', parsed).encode(report(sample('full-bmp-panel')), { controlId: 'C', createdAt: '2026-11-20T08:00:00Z' }),
      /settings\.body\.n: .*number/,
    );
    const bad = JsonTemplateSettings.parse({ path: '=report.id', body: {} });
    await assert.rejects(
      async () => createJsonTemplateEncoder('t', bad).encode(report(sample('full-bmp-panel')), { controlId: 'C', createdAt: '2026-11-20T08:00:00Z' }),
      /settings\.path: expected a path starting with '\/', the mapping gave 'res_8F2C41'/,
    );
  });
});

describe('json-template: checked when the mapping is loaded', () => {
  test('syntax errors, literal paths, bodies on GET, reserved headers and unsaved placeholders', () => {
    const found = issues({
      steps: [
        { name: 'a', path: 'patients', body: { x: '=report.(' }, headers: { Authorization: 'x' } },
        { name: 'a', method: 'GET', path: '/p/{{nope}}', body: {} },
        { name: 'c', path: '/x', when: '=)', skipIfSaved: 'later', saveAs: { later: 'id' } },
      ],
    });
    const expected = [
      /^steps\.0\.body\.x: not a valid JSONata expression: .* \(at character \d+\)$/,
      /^steps\.0\.path: expected a path starting with '\/' \(it is appended to the destination's baseUrl\), or an '=' expression$/,
      /^steps\.0\.headers\.Authorization: header 'Authorization' is set by the destination \(auth, body type\); it cannot be set here$/,
      /^steps\.1\.name: duplicate step name 'a'$/,
      /^steps\.1\.body: a GET request has no body$/,
      /^steps\.1\.path: \{\{nope\}\} is not saved by an earlier step \(saveAs: \{ nope: … \}\)$/,
      /^steps\.2\.when: not a valid JSONata expression/,
      /^steps\.2\.skipIfSaved: 'later' is not saved by an earlier step$/,
    ];
    assert.equal(found.length, expected.length, found.join('\n'));
    for (const re of expected) assert.ok(found.some((f) => re.test(f)), `${re} in\n${found.join('\n')}`);
  });

  test('one request or steps, not both; a path is required', () => {
    assert.deepEqual(issues({ body: {} }), ['path: expected the request path (or a list of steps)']);
    assert.deepEqual(issues({ path: '/x', steps: [{ path: '/y' }] }), ["path: 'path' belongs inside a step when the mapping has steps"]);
  });

  test('conduit validate reports a bad json-template mapping with file, line and path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'conduit-jt-'));
    try {
      mkdirSync(join(dir, 'channels'));
      mkdirSync(join(dir, 'mappings'));
      writeFileSync(
        join(dir, 'channels', 'to-partner.yaml'),
        'id: to-partner\nsource:\n  type: webhook\nmapping: platform-result\ndestinations:\n  - id: partner\n    mapping: partner\n    sender:\n      type: http\n      baseUrl: http://127.0.0.1:9\n',
      );
      writeFileSync(join(dir, 'mappings', 'platform-result.yaml'), 'kind: platform-result\nsettings:\n  statuses: { final: final }\n');
      writeFileSync(join(dir, 'mappings', 'partner.yaml'), "kind: json-template\nsettings:\n  path: /x\n  body:\n    id: =report.id\n    bad: '=$lookup('\n");
      const load = () => loadConfiguration({ channelsDir: join(dir, 'channels'), mappingsDir: join(dir, 'mappings') }, {}).issues;
      let found = load();
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!.file, /partner\.yaml$/);
      assert.equal(found[0]!.path, 'settings.body.bad');
      assert.equal(found[0]!.line, 6);
      assert.match(found[0]!.message, /not a valid JSONata expression/);
      // A table no one defines: found when the expressions are compiled with the file's tables.
      writeFileSync(join(dir, 'mappings', 'partner.yaml'), "kind: json-template\nsettings:\n  path: /x\n  body:\n    site: \"=$lookup('sites', report.device.site, 'code')\"\n");
      found = load();
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]!.path, 'settings.body.site');
      assert.match(found[0]!.message, /\$lookup of unknown table 'sites'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the repository sample mappings load and encode the fixtures', async () => {
    const { channels, issues: found } = loadConfiguration({ channelsDir: join(import.meta.dirname, '..', '..', 'channels'), mappingsDir: join(import.meta.dirname, '..', '..', 'mappings') }, {});
    assert.deepEqual(found, []);
    const encoders = new Map(channels.flatMap((c) => c.destinations.map((d) => [d.config.mapping, d.encoder] as const)));
    for (const m of ['docus-lab-results', 'c19t-results', 'lis-partner-tests']) assert.equal(encoders.get(m)?.kind, 'json-template', m);
    const c19t = encoders.get('c19t-results')!;
    const out = await c19t.encode(report(fixture('sars2-antigen-negative')), { controlId: 'C', createdAt: '2026-11-21T10:02:11Z' });
    assert.deepEqual(JSON.parse(out.payload)[0].body.result, 'negative');
  });
});
