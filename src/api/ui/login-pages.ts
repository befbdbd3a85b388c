import type { Problem } from '../problem.js';

/** The sign-in pages load only this API's own files; nothing else, and no inline script. */
export const LOGIN_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** JSON that cannot close the `<script>` element holding it. */
const inertJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

function page(title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(title)} · Mini-Zaps console</title>
<link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/assets/console.css">
${script}</head>
<body>
<main id="main" class="login panel">${body}</main>
</body>
</html>`;
}

/**
 * What `/ui/callback` answers once the provider issued a token: `signed-in.js` keeps the token
 * where the console keeps a pasted one and replaces this page (and the code in its address) by `/ui`.
 */
export function signedInPage(accessToken: string): string {
  return page(
    'Signed in',
    `<h1>Signed in</h1>
<p class="muted">Opening the <a href="/ui">console</a>…</p>
<script type="application/json" id="mz-signed-in">${inertJson({ token: accessToken })}</script>`,
    '<script type="module" src="/ui/assets/signed-in.js"></script>\n',
  );
}

/** A failed sign-in for a person: what went wrong (the problem's code and detail) and a way back. */
export function loginFailedPage(problem: Problem): string {
  return page(
    'Sign-in failed',
    `<h1>Sign-in failed</h1>
<p class="error" role="alert">${escapeHtml(problem.detail)}</p>
<p class="muted"><code>${escapeHtml(problem.code)}</code></p>
<p><a class="button primary" href="/ui/login">Sign in again</a> <a class="button" href="/ui">Back to the console</a></p>`,
  );
}
