import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Context } from 'hono';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

type Asset = { body: Uint8Array<ArrayBuffer>; gzipped: Uint8Array<ArrayBuffer>; type: string };

/**
 * Serves a fixed set of files (name → absolute path) from memory: read and gzipped once, on first
 * use, so nothing a request names can reach the file system. Unknown names answer undefined.
 *
 * @example
 * const assets = staticAssets({ 'app.js': '/abs/app.js' });
 * app.get('/ui/assets/:file', (c) => assets.serve(c, c.req.param('file')) ?? c.notFound());
 */
export function staticAssets(files: Record<string, string>) {
  const cache = new Map<string, Asset>();
  const load = (name: string): Asset | undefined => {
    const path = Object.hasOwn(files, name) ? files[name] : undefined;
    if (path === undefined) return undefined;
    let asset = cache.get(name);
    if (!asset) {
      const body = new Uint8Array(readFileSync(path));
      asset = {
        body,
        gzipped: new Uint8Array(gzipSync(body, { level: 9 })),
        type: TYPES[extension(name)] ?? 'application/octet-stream',
      };
      cache.set(name, asset);
    }
    return asset;
  };
  return {
    names: Object.keys(files),
    /** The gzipped size of one file, in bytes (the console's budget is checked with it). */
    gzippedSize: (name: string) => load(name)?.gzipped.byteLength ?? 0,
    serve(c: Context, name: string): Response | undefined {
      const asset = load(name);
      if (!asset) return undefined;
      const gzip = /\bgzip\b/.test(c.req.header('accept-encoding') ?? '');
      c.header('content-type', asset.type);
      // Revalidated on every load, so a new release is picked up without hashed names.
      c.header('cache-control', 'no-cache');
      c.header('x-content-type-options', 'nosniff');
      c.header('vary', 'accept-encoding');
      if (gzip) c.header('content-encoding', 'gzip');
      return c.body(gzip ? asset.gzipped : asset.body, 200);
    },
  };
}

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(dot);
}
