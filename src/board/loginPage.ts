import { escapeHtml } from './html.js';

/** The login form: one field, no scripts, so it works before Bull Board's app loads. */
export function loginPage(o: { next: string; error: string | undefined }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>autopoll board: log in</title>
<style>body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;background:#f4f4f5}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;display:grid;gap:.8rem;min-width:22rem}
input,button{font-size:1rem;padding:.5rem}.error{color:#b91c1c}</style></head>
<body><form method="post" action="/login">
<h1>autopoll board</h1>
<label for="token">Board token (AUTOPOLL_BOARD_TOKEN)</label>
<input id="token" name="token" type="password" autocomplete="current-password" autofocus required>
<input type="hidden" name="next" value="${escapeHtml(o.next)}">
${o.error ? `<p class="error" role="alert">${escapeHtml(o.error)}</p>` : ''}
<button type="submit">Log in</button>
</form></body></html>`;
}
