// A few helpers to build the page with DOM calls only (no innerHTML of server text, no inline script).

export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'text') element.textContent = value;
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, value);
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG = 'http://www.w3.org/2000/svg';

export function s(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  append(element, children);
  return element;
}

let fieldCount = 0;

// A labelled field: <label for> + control, with an optional hint tied by aria-describedby.
export function field(label, control, hint) {
  const id = control.id || `f${++fieldCount}`;
  control.id = id;
  const parts = [h('label', { for: id, text: label })];
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { class: 'hint', id: hintId, text: hint }));
  }
  return h('div', { class: 'field' }, parts, control);
}

// Markdown as the consent text uses it: headings, paragraphs, lists, **bold** and *italic*.
export function markdown(source) {
  const root = h('div', { class: 'markdown' });
  let list = null;
  let paragraph = [];
  const flushParagraph = () => {
    if (paragraph.length) root.append(h('p', {}, inline(paragraph.join(' '))));
    paragraph = [];
  };
  for (const raw of source.split('\n')) {
    const line = raw.trim();
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    const item = line.match(/^([-*]|\d+\.)\s+(.*)$/);
    if (!line) {
      flushParagraph();
      list = null;
    } else if (heading) {
      flushParagraph();
      list = null;
      const level = Math.min(6, heading[1].length + 1); // the screen's own h1 stays the only h1
      root.append(h(`h${level}`, {}, inline(heading[2])));
    } else if (item) {
      flushParagraph();
      if (!list) {
        list = h(/\d/.test(item[1]) ? 'ol' : 'ul');
        root.append(list);
      }
      list.append(h('li', {}, inline(item[2])));
    } else {
      paragraph.push(line);
    }
  }
  flushParagraph();
  return root;
}

function inline(text) {
  const parts = [];
  const pattern = /\*\*(.+?)\*\*|\*(.+?)\*/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parts.push(text.slice(last, match.index));
    parts.push(match[1] !== undefined ? h('strong', { text: match[1] }) : h('em', { text: match[2] }));
    last = match.index + match[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

export function formatDate(value, locale) {
  return new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short' }).format(new Date(`${value}T12:00:00`));
}
