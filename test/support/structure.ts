/** A part of src/ must never import the parts in `to`, for the reason `why`. */
export interface Rule {
  from: string;
  to: string[];
  why: string;
}

/** The part a repository path belongs to: the folder under src/, or null outside src/. */
export function partOf(path: string): string | null {
  const m = /^src\/([^/]+)\//.exec(path);
  return m ? m[1]! : null;
}

/** Each import of `file` (targets as repository paths) that a rule forbids, as `file -> target: why`. */
export function forbiddenImports(file: string, targets: string[], rules: Rule[]): string[] {
  const from = partOf(file);
  return targets.flatMap((target) => {
    const to = partOf(target);
    const rule = rules.find((r) => r.from === from && to !== null && r.to.includes(to));
    return rule ? [`${file} -> ${target}: ${rule.why}`] : [];
  });
}
