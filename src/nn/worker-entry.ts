/**
 * How a module starts as a worker thread both from the TypeScript sources (tests, benches run
 * through tsx) and from the built dist: `module` is the worker file's name without extension,
 * next to `base` (the caller's import.meta.url). From sources the worker registers tsx itself,
 * resolved from here (an eval'd worker would resolve 'tsx' from the working directory).
 */
export function workerEntry(base: string, module: string): { entry: URL | string; eval: boolean } {
  const url = new URL(`./${module}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
  if (!url.pathname.endsWith('.ts')) return { entry: url, eval: false };
  const tsx = import.meta.resolve('tsx/esm/api');
  return { entry: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`, eval: true };
}
