import { z } from 'zod';
import { AlertsAnswer } from '../alerts/view.ts';
import * as S from './schemas.ts';

/** What a route takes (query parameters, JSON body) and answers: the schemas its handler uses. */
export interface RouteSchemas {
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
  /** The JSON answer; a `text` answer is described by its media type instead. */
  readonly answer?: z.ZodType;
  readonly text?: string;
  /** The success status (200 unless said). */
  readonly status?: number;
}

const Cluster = z.looseObject({ store: z.enum(['sqlite', 'postgres']), instance: z.string() }).describe('the instances sharing the store and every lane lease');

/** By route key (`GET /api/messages`), for every route of ADMIN_ROUTES (a test checks none is missing). */
export const ROUTE_SCHEMAS: Readonly<Record<string, RouteSchemas>> = {
  'GET /health': { answer: S.HealthView.partial({ components: true }) },
  'GET /api/openapi.json': { answer: z.looseObject({ openapi: z.literal('3.1.0') }).describe('this description') },
  'GET /api/whoami': { answer: S.WhoAmI },
  'GET /api/channels': { answer: S.ChannelsAnswer },
  'GET /api/cluster': { answer: Cluster },
  'GET /metrics': { text: 'text/plain; version=0.0.4' },
  'GET /api/alerts': { answer: AlertsAnswer },
  'GET /api/activity': { answer: S.ActivityAnswer },
  'GET /api/messages': { query: S.MessageQuery, answer: S.MessagesPage },
  'GET /api/messages/:id': { answer: S.MessageAnswer },
  'POST /api/messages/:id/resend': { query: S.ResendQuery, answer: S.ResendAnswer, status: 202 },
  'POST /api/messages/:id/dismiss': { answer: S.DismissAnswer },
  'POST /api/reload': { answer: S.ReloadAnswer },
  'GET /api/workbench/files': { answer: S.FilesAnswer },
  'GET /api/workbench/file': { query: S.FileQuery, answer: S.FileAnswer },
  'GET /api/workbench/samples': { query: S.ChannelQuery, answer: S.SamplesAnswer },
  'POST /api/workbench/preview': { body: S.PreviewBody, answer: S.PreviewAnswer },
  'POST /api/workbench/save': { body: S.SaveBody, answer: S.SaveAnswer },
  'GET /api/tokens': { answer: S.TokensAnswer },
  'POST /api/tokens': { body: S.TokenRequest, answer: S.TokenCreated, status: 201 },
  'DELETE /api/tokens/:id': { answer: S.ListedToken },
  'GET /api/audit': { query: S.AuditQueryParams, answer: S.AuditPage },
  'GET /api/audit/verify': { answer: S.VerifyAnswer },
};
