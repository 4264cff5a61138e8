/** Escapes text for HTML, for the pages autopoll renders itself (the login form, the consumers). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
