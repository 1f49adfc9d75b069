import { readFileSync } from 'node:fs';
import { isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';

/** A problem in a configuration file: which file, where in it, and what was expected. */
export interface ConfigIssue {
  file: string;
  /** Dotted path inside the file, e.g. `destinations[0].sender.port`. */
  path: string;
  line?: number;
  message: string;
  code: string;
}

export interface YamlFile {
  file: string;
  data: unknown;
  /** Line of the node at `path` (1-based), or of its nearest present parent. */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}${i.line ? `:${i.line}` : ''}: ${i.path}: ${i.message}`;
}

/** Reads a YAML (or JSON) file, reporting syntax errors with their line. */
export function readYamlFile(file: string, text = readFileSync(file, 'utf8')): { yaml?: YamlFile; issues: ConfigIssue[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      issues: doc.errors.map((e) => ({
        file,
        path: '(syntax)',
        // With prettyErrors off the parser leaves linePos unset; the offset is always there.
        line: e.linePos?.[0]?.line ?? counter.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0]!,
        code: 'yaml_syntax',
      })),
    };
  }
  const lineOf = (path: readonly PropertyKey[]): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      // A map entry is found at its key: the value of `source:` starts on the next line.
      const parent = n > 0 ? doc.getIn(path.slice(0, n - 1) as unknown[], true) : undefined;
      if (isMap(parent)) {
        const key = String(path[n - 1]);
        const pair = parent.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === key);
        if (pair && isNode(pair.key) && pair.key.range) return counter.linePos(pair.key.range[0]).line;
      }
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  return { yaml: { file, data: doc.toJS(), lineOf }, issues: [] };
}
