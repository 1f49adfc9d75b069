import type { Response } from 'express';
import type { z } from 'zod';
import { loadConfiguration } from '../../config/load.ts';
import { InputError } from '../../errors.ts';
import { sendError } from '../../http/outcome.ts';
import { listEditable, readEditable, resolveEditable, writeEditable } from '../../workbench/files.ts';
import { withChanges } from '../../workbench/overlay.ts';
import { channelSamples, preview } from '../../workbench/preview.ts';
import { outcome } from '../guard.ts';
import { ChannelQuery, FileQuery, PreviewBody, SaveBody } from '../schemas.ts';
import { type AdminDeps, audited, type Handlers, invalid } from './support.ts';

/**
 * The mapping workbench: files, samples, a preview with edits that changes nothing, and a save
 * that writes only a configuration the engine would take (then reloads it).
 */
export function workbenchHandlers(deps: AdminDeps): Handlers {
  /** The body, parsed, with every file one the workbench edits; else the 422 is answered and undefined returned. */
  const filesBody = <T extends { files: Record<string, string> }>(schema: z.ZodType<T>, raw: unknown, res: Response): { data: T } | undefined => {
    const body = schema.safeParse(raw ?? {});
    if (!body.success) {
      invalid(res, body.error, 'body');
      return undefined;
    }
    try {
      for (const path of Object.keys(body.data.files)) resolveEditable(deps.files, path);
    } catch (e) {
      sendError(res, e);
      return undefined;
    }
    return { data: body.data };
  };
  return {
    'GET /api/workbench/files': async (_req, res) => {
      res.json({ files: listEditable(deps.files) });
    },

    'GET /api/workbench/file': async (req, res) => {
      const q = FileQuery.safeParse(req.query);
      if (!q.success) return invalid(res, q.error, 'query');
      try {
        res.json({ path: q.data.path, text: readEditable(deps.files, q.data.path) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') res.status(404).json(outcome('not-found', `no file ${q.data.path}`));
        else sendError(res, e);
      }
    },

    'GET /api/workbench/samples': async (req, res) => {
      const q = ChannelQuery.safeParse(req.query);
      if (!q.success) return invalid(res, q.error, 'query');
      // Nothing edited: the files as they are on disk, no copy needed.
      const channel = loadConfiguration(deps.files).channels.find((c) => c.config.id === q.data.channel);
      if (!channel) {
        res.status(404).json(outcome('not-found', `no valid channel ${q.data.channel}`));
        return;
      }
      res.json({ samples: channelSamples(channel, deps.files.samplesDir).map((s) => ({ name: s.name, format: s.format, invalid: s.invalid, text: s.text })) });
    },

    'POST /api/workbench/preview': async (req, res) => {
      const body = filesBody(PreviewBody, req.body, res);
      if (!body) return;
      await withChanges(deps.files, body.data.files, async (configuration) => {
        const channel = configuration.channels.find((c) => c.config.id === body.data.channel);
        if (!channel) {
          res.json({ issues: configuration.issues, ...(configuration.issues.length === 0 ? { missing: `no channel ${body.data.channel}` } : {}) });
          return;
        }
        let input: Parameters<typeof preview>[1];
        if (body.data.sample !== undefined) {
          const sample = channelSamples(channel, deps.files.samplesDir).find((s) => s.name === body.data.sample);
          if (!sample) {
            sendError(res, new InputError('INPUT_INVALID', [{ path: 'body.sample', code: 'invalid', message: `no sample ${body.data.sample} for channel ${channel.config.id}` }]));
            return;
          }
          input = { sample };
        } else input = { text: body.data.input! };
        res.json({ issues: configuration.issues, result: await preview(channel, input) });
      });
    },

    'POST /api/workbench/save': async (req, res, a) => {
      const body = filesBody(SaveBody, req.body, res);
      if (!body) return;
      const issues = await withChanges(deps.files, body.data.files, async (c) => c.issues);
      const paths = Object.keys(body.data.files).sort();
      if (issues.length > 0) {
        await audited(deps, a, 'configuration.change', 'configuration', { files: paths.join(','), refused: issues.length }, 'failure');
        res.status(422).json({ saved: false, issues });
        return;
      }
      await audited(deps, a, 'configuration.change', 'configuration', { files: paths.join(',') });
      writeEditable(deps.files, body.data.files);
      const reload = await deps.reload();
      res.json({ saved: true, files: paths, reload });
    },
  };
}
