import { readFileSync } from 'node:fs';

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Pids of a process and all its descendants (Linux /proc). */
function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    const children = readProc(`/proc/${tree[i]}/task/${tree[i]}/children`) ?? '';
    tree.push(...children.split(/\s+/).filter(Boolean).map(Number));
  }
  return tree;
}

/** Resident set size of a process tree in bytes (0 when /proc is unavailable). */
export function treeRss(pid: number): number {
  let total = 0;
  for (const member of processTree(pid)) {
    const match = /VmRSS:\s+(\d+) kB/.exec(readProc(`/proc/${member}/status`) ?? '');
    if (match) total += Number(match[1]) * 1024;
  }
  return total;
}

/** Samples a process tree's RSS until stopped; `peak` is the highest sum seen. */
export class RssSampler {
  peak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 50) {
    this.timer = setInterval(() => {
      this.peak = Math.max(this.peak, treeRss(pid));
    }, intervalMs);
  }

  stop(): number {
    clearInterval(this.timer);
    return this.peak;
  }
}
