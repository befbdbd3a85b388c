import { Headers } from 'undici';
import { AppError } from '../../shared/errors.js';
import { secretMatcher } from '../secret-forms.js';
import { describeUrl } from './safe-url.js';

/** One request of an http step: the first, or one after a redirect. */
export interface Hop {
  url: URL;
  method: string;
  headers: Headers;
  body: string | undefined;
}

const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
// What fetch drops with the body when a redirect turns the request into a GET.
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length'];

/**
 * The request to send after a redirect to `location`, following fetch's rules (303, and 301/302
 * after a POST, become a GET without body). Never downgrades https to http. On a redirect to
 * another origin it drops Authorization, Cookie, Proxy-Authorization and every header whose value
 * holds a secret the step used, and refuses to re-send a body that holds one (307/308, or 301/302
 * of a PUT): sending the body without its secret would be a different request, so the step fails.
 * @example nextHop(hop, 307, 'https://elsewhere.example/', ['s3cret'])
 */
export function nextHop(prev: Hop, status: number, location: string, secrets: readonly string[]): Hop {
  const url = parseLocation(location, prev.url, secrets);
  if (prev.url.protocol === 'https:' && url.protocol === 'http:') {
    throw refused(
      'HTTP_INSECURE_REDIRECT',
      `${describeUrl(prev.url, secrets)} redirected to plain http (${describeUrl(url, secrets)}); refusing to downgrade`,
    );
  }
  const headers = new Headers(prev.headers);
  let { method, body } = prev;
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    body = undefined;
    for (const name of BODY_HEADERS) headers.delete(name);
  }
  if (url.origin !== prev.url.origin) {
    const matcher = secretMatcher(secrets);
    for (const name of CREDENTIAL_HEADERS) headers.delete(name);
    for (const [name, value] of [...headers]) if (matcher?.test(value)) headers.delete(name);
    if (body !== undefined && matcher?.test(body)) {
      throw refused(
        'HTTP_REDIRECT_CREDENTIALS',
        `${describeUrl(prev.url, secrets)} redirected (${status}) to another origin, ${describeUrl(url, secrets)}, and the body to re-send holds a secret`,
      );
    }
  }
  return { url, method, headers, body };
}

function parseLocation(location: string, base: URL, secrets: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    throw refused('HTTP_BAD_REDIRECT', `${describeUrl(base, secrets)} redirected to an invalid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused('HTTP_BAD_REDIRECT', `${describeUrl(base, secrets)} redirected to a ${url.protocol} URL`);
  return url;
}

const refused = (code: string, message: string) => new AppError({ code, message, retryable: false });
