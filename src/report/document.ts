/**
 * A small document model: headings, paragraphs, lists, tables and a figure,
 * all of plain text. The launch report and the post-mortem draft are built
 * once as a document and written out as Markdown or HTML, so both formats say
 * the same thing and each escapes text in one place.
 */
export type Block =
  | { type: 'heading'; level: 1 | 2 | 3; text: string; id?: string }
  | { type: 'paragraph'; text: string }
  | { type: 'list'; items: string[] }
  | { type: 'table'; head: string[]; rows: string[][] }
  | { type: 'figure'; alt: string; svg: string; src?: string };

export interface Doc {
  title: string;
  blocks: Block[];
}

/** Markdown text: nothing a person typed can become a link, an image, HTML or a table break. */
export function mdText(s: string): string {
  return s
    .replace(/\r?\n+/g, ' ')
    .replace(/([\\`*_[\]|<>~])/g, '\\$1')
    .trim()
    .replace(/^([#+-])/, '\\$1');
}

/** GitHub-flavoured Markdown, pasteable into a wiki or a pull request. */
export function toMarkdown(doc: Doc): string {
  const out: string[] = [];
  for (const b of doc.blocks) {
    switch (b.type) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${mdText(b.text)}`, '');
        break;
      case 'paragraph':
        out.push(mdText(b.text), '');
        break;
      case 'list':
        for (const item of b.items) out.push(`- ${mdText(item)}`);
        out.push('');
        break;
      case 'table': {
        const cell = (s: string) => mdText(s) || ' ';
        out.push(`| ${b.head.map(cell).join(' | ')} |`, `|${b.head.map(() => '---').join('|')}|`);
        for (const row of b.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
        out.push('');
        break;
      }
      case 'figure':
        // Markdown cannot hold the SVG itself: link the picture where it is served, else say where to find it.
        out.push(b.src ? `![${mdText(b.alt)}](${b.src})` : `_${mdText(b.alt)}: see the HTML report or the PNG posted with it._`, '');
        break;
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Escapes text for HTML content and attribute values. */
export function html(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Verdana, Arial, sans-serif; color: #212121; margin: 2rem auto; max-width: 1240px; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.3rem; border-bottom: 2px solid #e0e0e0; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #e0e0e0; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
tr:nth-child(even) td { background: #fafafa; }
figure { margin: 1rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
ul { padding-left: 1.3rem; }
@media print { body { margin: 0; max-width: none; } h2 { break-after: avoid; } table, figure { break-inside: avoid; } }
`;

/** A self-contained HTML page: styles inline, the SVG inline, no scripts and nothing fetched. */
export function toHtml(doc: Doc): string {
  const body: string[] = [];
  for (const b of doc.blocks) {
    switch (b.type) {
      case 'heading':
        body.push(`<h${b.level}${b.id ? ` id="${html(b.id)}"` : ''}>${html(b.text)}</h${b.level}>`);
        break;
      case 'paragraph':
        body.push(`<p>${html(b.text)}</p>`);
        break;
      case 'list':
        body.push(`<ul>${b.items.map((i) => `<li>${html(i)}</li>`).join('')}</ul>`);
        break;
      case 'table':
        body.push(
          `<table><thead><tr>${b.head.map((h) => `<th>${html(h)}</th>`).join('')}</tr></thead><tbody>${b.rows.map((r) => `<tr>${r.map((c) => `<td>${html(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
        );
        break;
      case 'figure':
        // The SVG was built by golive with every text escaped (render-timeline-svg.ts), so it goes in as markup.
        body.push(`<figure>${b.svg}<figcaption>${html(b.alt)}</figcaption></figure>`);
        break;
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${html(doc.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
