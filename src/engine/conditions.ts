import { type CompiledExpression, compileExpression } from '../mapping/expressions/index.ts';

/** Compiled filter and routing conditions, by source text: compiled once, shared by every channel. */
const compiled = new Map<string, CompiledExpression>();

/** Evaluates a channel condition over `{ report, input }`; JSONata truthiness decides. */
export async function holds(source: string, scope: { report: unknown; input: unknown }): Promise<boolean> {
  let expr = compiled.get(source);
  if (!expr) {
    expr = compileExpression(source);
    compiled.set(source, expr);
  }
  const v = await expr.evaluate(scope);
  return Array.isArray(v) ? v.length > 0 : Boolean(v);
}
