import { domainToUnicode } from 'node:url';
import { secretMatcher } from '../secret-forms.js';

/**
 * Whether a URL holds a secret the step used, in any form: its host is lower-cased and may be
 * punycode, its path and query percent-encoded, so the raw config text is not enough to go by.
 */
export function urlHoldsSecret(url: URL, secrets: readonly string[]): boolean {
  const matcher = secretMatcher(secrets);
  if (!matcher) return false;
  return [url.href, domainToUnicode(url.hostname), decoded(url.href)].some((text) => matcher.test(text));
}

/**
 * How a URL appears in error text: origin and path, or only its scheme when a secret went into
 * it (a secret in the host would otherwise leak through DNS and connection errors).
 * @example describeUrl(new URL('https://api.example.com/v1?key=x'), []) // 'https://api.example.com/v1'
 */
export const describeUrl = (url: URL, secrets: readonly string[]): string =>
  urlHoldsSecret(url, secrets) ? `${url.protocol}//[redacted]` : `${url.origin}${url.pathname}`;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
