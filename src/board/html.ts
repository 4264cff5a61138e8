/** Escapes text for HTML, for the pages autopoll renders itself (the login form, the consumers, find). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The look the board's own pages share: Bull Board's background, plain tables. */
const PAGE_STYLE = `body{font-family:system-ui,sans-serif;margin:2rem;background:#f4f4f5}table{border-collapse:collapse;background:#fff}
th,td{padding:.4rem .8rem;border-bottom:1px solid #e4e4e7;text-align:left}`;

/**
 * A page of the board's own beside Bull Board's (consumers, find): its title, the shared look plus
 * its own `style`, a link back to the queues, then `body` (already escaped by the caller).
 */
export function boardPage(o: { title: string; head?: string; style: string; body: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${o.head ?? ''}<title>autopoll board: ${o.title}</title>
<style>${PAGE_STYLE}${o.style}</style></head>
<body><p><a href="/">← queues</a></p>
${o.body}
</body></html>`;
}
