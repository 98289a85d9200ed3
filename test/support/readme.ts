/**
 * The README's marked examples: a ```ts block right after `<!-- example: <name> -->`. The README
 * is their only copy; the tests compile (and synthesize) them from there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const README = join(__dirname, '..', '..', 'README.md');

/** Every marked example of `markdown`, by name. */
export function readmeExamples(markdown: string = readFileSync(README, 'utf8')): Map<string, string> {
  const examples = new Map<string, string>();
  for (const m of markdown.matchAll(/<!-- example: ([\w-]+) -->\s*\n```ts\n([\s\S]*?)\n```/g)) {
    if (examples.has(m[1])) throw new Error(`README.md: example "${m[1]}" is marked twice`);
    examples.set(m[1], `${m[2]}\n`);
  }
  return examples;
}

/** The example named `name`; throws (naming the marker) when README has none. */
export function readmeExample(name: string, markdown?: string): string {
  const source = readmeExamples(markdown).get(name);
  if (source === undefined) throw new Error(`README.md has no \`<!-- example: ${name} -->\` followed by a \`\`\`ts block`);
  return source;
}

/**
 * `readme` with the block between `<!-- <name>:begin -->` and `<!-- <name>:end -->`
 * replaced by `content` (markers kept). Throws when the markers are missing or out of order, so a
 * README edit that drops them is noticed instead of silently not updated.
 */
export function replaceReadmeBlock(readme: string, name: string, content: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const i = readme.indexOf(begin);
  const j = readme.indexOf(end);
  if (i < 0 || j < i || readme.indexOf(begin, i + 1) >= 0) throw new Error(`README.md: expected one ${begin} … ${end} pair`);
  return `${readme.slice(0, i + begin.length)}\n${content.trim()}\n${readme.slice(j)}`;
}
