/**
 * Which server code a run measured: the git commit, whether packages/ had uncommitted changes,
 * and a hash of the server's source, checked again after every run because each Herald run starts
 * a fresh process on whatever the working tree holds at that moment.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Provenance {
  commit: string;
  /** Files under packages/ that differ from the commit (git status), empty when clean. */
  uncommitted: string[];
  serverSourceHash: string;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return null;
  }
}

/** sha256 over every file of packages/server/src and its package.json, by path and content. */
export function serverSourceHash(): string {
  const h = crypto.createHash('sha256');
  const dir = path.join(root, 'packages/server');
  const files = [path.join(dir, 'package.json'), ...fs.readdirSync(path.join(dir, 'src'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name))].sort();
  for (const f of files) h.update(path.relative(root, f)).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex').slice(0, 16);
}

export function provenance(): Provenance {
  const status = git(['status', '--porcelain', '--', 'packages']);
  return {
    commit: git(['rev-parse', '--short', 'HEAD'])?.trim() ?? 'unknown',
    // porcelain lines are "XY path"
    uncommitted: (status ?? '').split('\n').filter((l) => l.length > 3).map((l) => l.slice(3)),
    serverSourceHash: serverSourceHash(),
  };
}
