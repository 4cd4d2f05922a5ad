import { UI_SCRIPT, UI_STYLE, UI_VERSION } from '../generated/ui-assets.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Headers every console page and asset carries: no framing, no sniffing, nothing loaded from elsewhere. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** The HTML shell of the single-page console; the script reads `data-base` to find its API. */
export function pageHtml(basePath: string, title: string): string {
  const base = escapeHtml(basePath);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${base}/assets/console.css?v=${UI_VERSION}">
<script type="module" src="${base}/assets/console.js?v=${UI_VERSION}"></script>
</head>
<body>
<div id="app" data-base="${base}" data-title="${escapeHtml(title)}"><p class="loading">Loading the console…</p></div>
</body>
</html>
`;
}

/** The static assets built into the package (no CDN): the script bundle and the stylesheet. */
export function assetResponse(name: string): Response | undefined {
  const asset =
    name === 'console.js'
      ? { body: UI_SCRIPT, type: 'text/javascript; charset=utf-8' }
      : name === 'console.css'
        ? { body: UI_STYLE, type: 'text/css; charset=utf-8' }
        : undefined;
  if (!asset) return undefined;
  return new Response(asset.body, {
    headers: {
      'content-type': asset.type,
      'cache-control': 'public, max-age=31536000, immutable',
      etag: `"${UI_VERSION}"`,
      ...SECURITY_HEADERS,
    },
  });
}
