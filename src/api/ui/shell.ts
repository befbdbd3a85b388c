/**
 * The console's one page. Views are drawn by `assets/app.js` from the address's hash
 * (`#/runs/<id>`), so a reload or a shared link opens the same view. With `signIn`, its token form
 * also offers the identity provider's sign-in (`/ui/login`).
 */
export function shell(opts: { signIn?: boolean } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Mini-Zaps console</title>
<link rel="icon" href="/ui/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/assets/console.css">
<script src="/ui/assets/theme.js"></script>
<script type="module" src="/ui/assets/app.js"></script>
</head>
<body${opts.signIn ? ' data-sign-in="/ui/login"' : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="#/workflows">Mini-Zaps</a>
  <nav id="nav" aria-label="Sections"></nav>
  <span class="spacer"></span>
  <button id="theme" type="button" title="Switch theme (t)">Theme</button>
  <button id="signout" type="button" hidden>Sign out</button>
</header>
<main id="main" tabindex="-1"><p class="muted">Loading…</p></main>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>`;
}
