// DOM helpers for the sandbox page: build elements from tags, properties and children, never from HTML strings.

/**
 * Create an element. `props` keys: `class`, `text` (textContent), `dataset` (object; null values skipped),
 * `on<event>` (listener), the DOM properties `value`, `checked`, `selected`, `disabled`, `multiple`, `hidden`
 * and `htmlFor`; anything else is set as an attribute (`true` gives an empty attribute; `null`, `undefined` and `false` are skipped).
 * Children may be nodes, strings (added as text) or nested arrays; null and false are skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') setData(el, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function setData(el, data) {
  for (const [name, value] of Object.entries(data)) {
    if (value !== null && value !== undefined && value !== false) el.dataset[name] = String(value);
  }
}

const PROPERTIES = new Set(['value', 'checked', 'selected', 'disabled', 'multiple', 'hidden', 'htmlFor']);

/** Append children (nodes, strings, nested arrays; null/false skipped) to `parent`; returns `parent`. */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** A document fragment holding `children`. */
export function fragment(...children) {
  return append(document.createDocumentFragment(), children);
}

/** Replace everything inside `parent` with `children`. */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let lastId = 0;

/** A fresh id for tying labels to inputs. */
export function uniqueId(prefix = 'el') {
  lastId += 1;
  return `${prefix}-${lastId}`;
}
