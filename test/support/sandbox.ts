import { startTestEngine, type TestEngine } from './in-process.ts';

/** An engine running only a sandbox LIS channel (our MLLP listener) on a free port. */
export async function startSandboxLis(respond: 'AA' | 'AE' | 'AR' | 'silent' = 'AA'): Promise<TestEngine & { mllpPort: number }> {
  const t = await startTestEngine({
    'lis-sandbox.yaml': `id: lis-sandbox\nsource:\n  type: mllp\n  host: 127.0.0.1\n  port: 0\n  respond: ${respond}\n`,
  });
  const described = t.engine.channels[0]!.describeSource();
  const port = Number(/:(\d+)$/.exec(described)![1]);
  return Object.assign(t, { mllpPort: port });
}

/** Stored messages of a sandbox LIS, oldest first, as raw ER7. */
export async function sandboxMessages(t: TestEngine): Promise<string[]> {
  const page = await t.engine.store.listMessages({ limit: 10_000 });
  const views = await Promise.all(page.messages.reverse().map((m) => t.engine.store.getMessage(m.id)));
  return views.map((v) => v!.rawInput);
}
