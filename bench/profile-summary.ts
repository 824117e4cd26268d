// Where a process's CPU time went, from a `node --cpu-prof` profile: self time grouped by module
// (package, node internal, or project file) and the top functions. Used for bench/RESULTS.md:
//   npx tsx bench/profile-summary.ts /tmp/prof/CPU.….cpuprofile [fromUs toUs]
// (fromUs/toUs: the monotonic window `BENCH_MARK=1 npm run bench` prints for the fan-out; profiles use the
// same clock.)
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<pkg>, node:internal/<area>, or the project-relative file. */
function moduleOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : `(native) ${functionName}`;
  const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const internal = /^node:(internal\/)?([^/]+(\/[^/]+)?)/.exec(url);
  if (internal) return `node:${internal[2]}`;
  const project = /wt-[^/]+\/(.+)$/.exec(url) ?? /\/work\/[^/]+\/(.+)$/.exec(url);
  return project ? project[1]! : url;
}

export function summarize(file: string, window?: { from: number; to: number }, top = 15) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let at = profile.startTime;
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.from || at > window.to)) return;
    total += delta;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const modules = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    const module = moduleOf(frame.url, frame.functionName);
    modules.set(module, (modules.get(module) ?? 0) + us);
    const fn = `${frame.functionName || "(anonymous)"} ${module}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const busy = total - (modules.get("(idle)") ?? 0);
  const show = (map: Map<string, number>) =>
    [...map]
      .filter(([name]) => !name.startsWith("(idle)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(
        ([name, us]) =>
          `  ${(us / 1000).toFixed(0).padStart(7)} ms  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${name}`,
      )
      .join("\n");
  return [
    `${file}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(2)} s busy`,
    "by module (self time, % of busy):",
    show(modules),
    "by function:",
    show(functions),
  ].join("\n");
}

if (process.argv[1]?.endsWith("profile-summary.ts")) {
  const [file, from, to] = process.argv.slice(2);
  console.log(summarize(file!, from && to ? { from: Number(from), to: Number(to) } : undefined));
}
