import type { Logger } from 'pino';

interface Window {
  count: number;
  fields: Record<string, unknown>;
  readonly timer: NodeJS.Timeout;
}

/**
 * Logs a repeated event at most once per interval and key, with `count`, the number of
 * events the line stands for: under overload a line per refused request is a flood of its
 * own (issue 8: 212,918 error lines in 60 s of overload). The first event is logged at once;
 * the ones after it are counted and logged as one line when the interval ends, for as long
 * as they keep coming.
 */
export class LogThrottle {
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly windows = new Map<string, Window>();

  constructor(log: Logger, intervalMs = 1_000) {
    this.log = log;
    this.intervalMs = intervalMs;
  }

  warn(key: string, fields: Record<string, unknown>, msg: string): void {
    this.event('warn', key, fields, msg);
  }

  error(key: string, fields: Record<string, unknown>, msg: string): void {
    this.event('error', key, fields, msg);
  }

  private event(level: 'warn' | 'error', key: string, fields: Record<string, unknown>, msg: string): void {
    const open = this.windows.get(`${level} ${key}`);
    if (open) {
      open.count += 1;
      open.fields = fields;
      return;
    }
    this.log[level]({ ...fields, count: 1 }, msg);
    const window: Window = {
      count: 0,
      fields,
      // Unref'd: a pending summary never keeps the process alive.
      timer: setTimeout(() => {
        if (window.count === 0) {
          this.windows.delete(`${level} ${key}`);
          return;
        }
        this.log[level]({ ...window.fields, count: window.count }, msg);
        window.count = 0;
        window.timer.refresh();
      }, this.intervalMs).unref(),
    };
    this.windows.set(`${level} ${key}`, window);
  }
}
